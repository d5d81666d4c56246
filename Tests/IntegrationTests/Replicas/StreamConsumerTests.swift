@testable import ExperimentService
import Foundation
import Testing

/// `switchboard consume` on Redis Streams, with a consumer killed by SIGKILL mid-stream and
/// entries left pending by a consumer that never acknowledges: every request gets exactly
/// one decision in PostgreSQL, every reward counts once; a deleted stream is made again.
@Suite("The stream consumer survives kill -9 with nothing lost or doubled")
struct StreamConsumerTests {
    @Test("600 requests and 400 rewards (half of them sent twice) through two consumers, one killed, plus a ghost consumer's pending entries")
    func killNine() async throws {
        _ = try await TestStores.stores()
        let databaseURL = try await TestStores.privateDatabaseURL("streams")
        let redisURL = TestStores.redisURL + "/4"
        let redis = RedisConnection(endpoint: try RedisConnection.Endpoint(url: redisURL))
        _ = try redis.command(["FLUSHDB"])
        let names = StreamConsumer.Names()
        func start(_ consumer: String) async throws -> ThreeReplicasTests.Replica {
            try await ThreeReplicasTests.start(count: 1, databaseURL: databaseURL, redisURL: redisURL,
                                               arguments: ["--consumer", consumer, "--plugin-dir", PredictionTests.fixture.folder],
                                               command: "consume")[0]
        }
        let a = try await start("a")
        let created = try await ThreeReplicasTests.request(a.base + "/v1/experiments", method: "POST",
                                                           json: #"{"key": "streamed", "arms": [{"name": "x"}, {"name": "y"}], "policy": {"name": "thompson"}}"#)
        try #require(created.status == 201)
        // The group exists once `a` runs; a ghost consumer then takes 50 entries and dies without acknowledging them.
        var requestIDs: [String] = []
        func add(_ range: Range<Int>) throws {
            let replies = try redis.pipeline(range.map { ["XADD", names.requests, "*", "experiment", "streamed", "unit", "u\($0 % 400)"] })
            requestIDs += replies.compactMap(\.text)
        }
        try add(0..<50)
        _ = try redis.command(["XREADGROUP", "GROUP", names.group, "ghost", "COUNT", "50", "STREAMS", names.requests, ">"])
        try add(50..<350)
        func decided() throws -> Int { Int(try redis.command(["XLEN", names.decisions]).text ?? "") ?? 0 }
        for _ in 0..<200 where try decided() < 20 { try await Task.sleep(for: .milliseconds(10)) }
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        try add(350..<600)
        let b = try await start("b")
        defer { ThreeReplicasTests.stop([b]) }
        // Everything is acknowledged: the ghost's entries too (claimed after they idled 5 s).
        func pending() throws -> Int {
            guard case .array(let summary) = try redis.command(["XPENDING", names.requests, names.group]) else { return -1 }
            return Int(summary.first?.text ?? "") ?? -1
        }
        _ = try await eventually(timeout: .seconds(60), every: .milliseconds(100)) { try pending() == 0 && decided() >= 600 }
        #expect(try pending() == 0, "entries still pending")
        // Each request's decision: the id derived from its entry, stored once.
        guard case .array(let outputs) = try redis.command(["XRANGE", names.decisions, "-", "+"]) else { Issue.record("no decisions stream"); return }
        var decisionOf: [String: String] = [:]
        for entry in StreamConsumer.entries(.array(outputs)) {
            guard let request = entry.fields["request"], let id = entry.fields["decision_id"] else {
                Issue.record("a decision entry without a decision: \(entry.fields)")
                continue
            }
            if let earlier = decisionOf[request] { #expect(earlier == id, "request \(request) got two decisions") }
            decisionOf[request] = id
        }
        #expect(Set(decisionOf.keys) == Set(requestIDs), "requests without a decision: \(Set(requestIDs).subtracting(decisionOf.keys).count)")
        for request in requestIDs.prefix(20) {
            #expect(decisionOf[request] == DecisionID.derived(stream: names.requests, entry: request).map(DecisionID.text))
        }
        let stored = try await TestStores.query("SELECT count(*), count(DISTINCT unit) FROM switchboard.decisions WHERE experiment = 'streamed'",
                                                database: databaseURL)
        #expect(stored == [["600", "400"]])

        // Rewards: 400 entries for 200 decisions (each twice); each counts once, through a restart of the reader.
        let rewarded = Array(decisionOf.values.sorted().prefix(200))
        _ = try redis.pipeline((rewarded + rewarded).map { ["XADD", names.rewards, "*", "decision_id", $0, "reward", "1"] })
        func rewards() async throws -> String? {
            try await TestStores.query("SELECT count(*) FROM switchboard.rewards", database: databaseURL).first?[0] ?? nil
        }
        _ = try await eventually(every: .milliseconds(100)) { try await rewards() == "200" }
        try await Task.sleep(for: .milliseconds(500))  // the duplicates have arrived too
        #expect(try await rewards() == "200")
        let view = try JSONDecoder().decode(ExperimentView.self, from: try await ThreeReplicasTests.request(b.base + "/v1/experiments/streamed", method: "GET").body)
        #expect(view.arms.compactMap(\.rewards).reduce(0, +) == 200)
        // A prediction request carries its inputs; its decision entry carries the model's outputs.
        let fixture = PredictionTests.fixture
        let registered = try await ThreeReplicasTests.request(b.base + "/v1/backends", method: "POST",
                                                              json: #"{"name": "iris", "path": "\#(fixture.library)", "model": "\#(fixture.iris)"}"#)
        try #require(registered.status == 201, "\(String(decoding: registered.body, as: UTF8.self))")
        #expect(try await ThreeReplicasTests.request(b.base + "/v1/experiments", method: "POST",
                                                     json: #"{"key": "streamed-model", "arms": [{"name": "linear", "backend": "iris"}]}"#).status == 201)
        let inputs = #"[{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.5, 5.0, 1.9]}]"#
        let predicted = try redis.command(["XADD", names.requests, "*", "experiment", "streamed-model", "unit", "flower", "inputs", inputs]).text ?? ""
        var answer: [String: String]?
        _ = try await eventually {
            guard case .array(let recent) = try redis.command(["XREVRANGE", names.decisions, "+", "-", "COUNT", "5"]) else { return false }
            answer = StreamConsumer.entries(.array(recent)).first { $0.fields["request"] == predicted }?.fields
            return answer != nil
        }
        #expect(answer?["variant"] == "linear" && answer?["outputs"]?.contains(#""name":"class""#) == true, "\(String(describing: answer))")

        // The requests stream deleted (its group with it): the consumer creates them again and goes on.
        _ = try redis.command(["DEL", names.requests])
        try await Task.sleep(for: .seconds(1))
        let afterDelete = try redis.command(["XADD", names.requests, "*", "experiment", "streamed", "unit", "after-delete"]).text ?? ""
        let answered = try await eventually {
            guard case .array(let recent) = try redis.command(["XREVRANGE", names.decisions, "+", "-", "COUNT", "5"]) else { return false }
            return StreamConsumer.entries(.array(recent)).contains { $0.fields["request"] == afterDelete && $0.fields["decision_id"] != nil }
        }
        #expect(answered, "no decision for a request sent after the stream was deleted")

        // The consumer's figures are in /metrics.
        let metrics = String(decoding: try await ThreeReplicasTests.request(b.base + "/metrics", method: "GET").body, as: UTF8.self)
        #expect(metrics.contains("switchboard_stream_entries_total") && metrics.contains("switchboard_stream_lag"))
        #expect(metrics.contains("switchboard_stream_claimed_total"), "the ghost's entries were not claimed")
    }
}
