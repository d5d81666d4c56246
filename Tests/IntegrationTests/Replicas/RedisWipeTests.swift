@testable import ExperimentService
import Foundation
import Testing

/// Redis is a cache: three replicas keep serving while their private Redis is restarted
/// empty, flushed, and rebuilt on demand, and the statistics end exactly as sent.
@Suite("Redis loses its data mid-run: state is rebuilt from PostgreSQL, exactly", .serialized)
struct RedisWipeTests {
    typealias Replica = ThreeReplicasTests.Replica

    /// POSTs until the answer is not a 503 (expected while Redis is down or a rebuild runs).
    static func post(_ url: String, json: String) async throws -> (status: Int, body: Data) {
        for _ in 0..<400 {
            let r = try await ThreeReplicasTests.request(url, method: "POST", json: json)
            if r.status != 503 { return r }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("\(url) answered 503 for 10 s")
        return (503, Data())
    }

    static func features(_ i: Int) -> (x: Double, y: Double) {
        (Double((i * 37) % 101) / 100, Double((i * 53) % 89) / 88 - 0.5)
    }

    @Test("restart Redis empty, FLUSHALL, and rebuild-state during 2,400 rounds on three replicas; statistics and counters end exact")
    func wipeMidRun() async throws {
        // Private stores: replicas sweep default rewards of every experiment in their database
        // into their Redis, so a database shared with other tests would take their defaults.
        let databaseURL = try await Self.privateDatabase()
        let folder = NSTemporaryDirectory() + "switchboard-wipe-\(UUID().uuidString.prefix(8))"
        let redis = try EmbeddedRedis(folder: folder, port: try FreePort.find(), password: StoreSecrets.random())
        try redis.start()
        defer { redis.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let replicas = try await ThreeReplicasTests.start(count: 3, databaseURL: databaseURL, redisURL: redis.url)
        defer { ThreeReplicasTests.stop(replicas) }

        let bandit = TestStores.uniqueKey("wipe-thompson"), linear = TestStores.uniqueKey("wipe-linucb")
        for json in [
            #"{"key": "\#(bandit)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "policy": {"name": "thompson"}}"#,
            #"{"key": "\#(linear)", "arms": [{"name": "a"}, {"name": "b"}], "context_features": ["x", "y"], "policy": {"name": "linucb"}}"#,
        ] {
            #expect(try await ThreeReplicasTests.request(replicas[0].base + "/v1/experiments", method: "POST", json: json).status == 201)
        }

        let rounds = 2_400
        let redisControl = RedisConnection(endpoint: try .init(url: redis.url))
        defer { redisControl.close() }
        let sent = try await withThrowingTaskGroup(of: (round: Int, arm: Int, reward: Double).self) { group in
            var results: [(round: Int, arm: Int, reward: Double)] = []
            for i in 0..<rounds {
                if i >= 24 { results.append(try await group.next()!) }
                switch i {
                case 800:  // Redis restarts empty
                    redis.stop()
                    try redis.start()
                case 1_400:
                    #expect(try redisControl.command(["FLUSHALL"]) == .status("OK"))
                case 2_000:  // an on-demand rebuild while rewards keep arriving
                    group.addTask {
                        let status = try Self.rebuildState(databaseURL: databaseURL, redisURL: redis.url, keys: [bandit, linear])
                        #expect(status == 0, "switchboard rebuild-state exited with \(status)")
                        return (-1, 0, 0)
                    }
                default: break
                }
                group.addTask {
                    let isLinear = i.isMultiple(of: 2)
                    let f = Self.features(i)
                    let body = isLinear ? #"{"unit": "u-\#(i)", "context": {"x": \#(f.x), "y": \#(f.y)}}"# : #"{"unit": "u-\#(i)"}"#
                    let assign = try await Self.post(replicas[i % 3].base + "/v1/experiments/\(isLinear ? linear : bandit)/assign", json: body)
                    try #require(assign.status == 200, "\(String(decoding: assign.body, as: UTF8.self))")
                    let a = try JSONDecoder().decode(AssignResponse.self, from: assign.body)
                    let arm = ["a", "b", "c"].firstIndex(of: a.variant)!
                    let reward: Double = isLinear ? (arm == 0 ? f.x : 1 - f.x) : ((i * 7 + arm) % 3 == 0 ? 1 : 0)
                    let r = try await Self.post(replicas[(i + 1) % 3].base + "/v1/rewards",
                                                json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(reward)}"#)
                    #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
                    return (i, arm, reward)
                }
            }
            for try await r in group { results.append(r) }
            return results.filter { $0.round >= 0 }
        }
        #expect(sent.count == rounds)

        // Expected statistics, computed here from what was sent: successes and failures per
        // arm for Thompson; per arm A = I + Σ x xᵀ and b = Σ r x with x = (x, y, 1) for LinUCB.
        var beta = [Double](repeating: 0, count: 6)
        var lin = [Double](repeating: 0, count: 2 * 12)
        for arm in 0..<2 { for i in 0..<3 { lin[arm * 12 + i * 3 + i] = 1 } }
        for s in sent {
            if s.round.isMultiple(of: 2) {
                let f = Self.features(s.round)
                let x = [f.x, f.y, 1]
                for i in 0..<3 {
                    for j in 0..<3 { lin[s.arm * 12 + i * 3 + j] += x[i] * x[j] }
                    lin[s.arm * 12 + 9 + i] += s.reward * x[i]
                }
            } else {
                beta[2 * s.arm] += s.reward
                beta[2 * s.arm + 1] += 1 - s.reward
            }
        }
        for r in replicas {
            var thompson = try await Self.view(r, bandit), linucb = try await Self.view(r, linear)
            _ = try await eventually {
                thompson = try await Self.view(r, bandit)
                linucb = try await Self.view(r, linear)
                return thompson.statistics == beta && Self.close(linucb.statistics, lin)
            }
            #expect(thompson.statistics == beta, "replica \(r.base): Thompson counts are integers, so exactly equal")
            #expect(Self.close(linucb.statistics, lin), "replica \(r.base): \(linucb.statistics ?? []) vs \(lin)")
            #expect(thompson.arms.compactMap(\.assignments).reduce(0, +) == Int64(rounds / 2))
            #expect(thompson.arms.compactMap(\.rewards).reduce(0, +) == Int64(rounds / 2))
            #expect(linucb.arms.compactMap(\.assignments).reduce(0, +) == Int64(rounds / 2))
        }
    }

    /// A new empty database on the test server; returns its URL.
    static func privateDatabase() async throws -> String {
        _ = try await TestStores.stores()
        let name = "wipe_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await TestStores.query("CREATE DATABASE \(name)")
        var url = TestStores.databaseURL
        let slash = try #require(url.lastIndex(of: "/"))
        url.replaceSubrange(url.index(after: slash)..., with: name)
        return url
    }

    /// Equal up to the rounding of sums taken in another order.
    static func close(_ a: [Double]?, _ b: [Double]) -> Bool {
        guard let a, a.count == b.count else { return false }
        return zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
    }

    static func view(_ replica: Replica, _ key: String) async throws -> ExperimentView {
        let body = try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(key)", method: "GET").body
        return try JSONDecoder().decode(ExperimentView.self, from: body)
    }

    /// Runs `switchboard rebuild-state` against the test's PostgreSQL and `redisURL`.
    static func rebuildState(databaseURL: String, redisURL: String, keys: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ThreeReplicasTests.binary)
        process.arguments = ["rebuild-state", "--sql-dir", ThreeReplicasTests.root + "/sql", "--plugin-dir", ThreeReplicasTests.root + "/policies",
                             "--log-level", "warning"] + keys.flatMap { ["--experiment", $0] }
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = databaseURL
        environment["REDIS_URL"] = redisURL
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
