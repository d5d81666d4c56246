@testable import ExperimentService
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Three real `switchboard serve` processes on one PostgreSQL and one Redis.
@Suite("Three replicas share one Redis and one PostgreSQL", .serialized)
struct ThreeReplicasTests {
    struct Replica {
        let process: Process
        let base: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL.path
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path + "/switchboard"

    static func start(count: Int, databaseURL: String = TestStores.databaseURL, redisURL: String = TestStores.redisURL,
                      arguments extra: [String] = [], dataFolder: String? = nil,
                      environment added: [String: String] = [:], command: String = "serve") async throws -> [Replica] {
        let folder = dataFolder ?? NSTemporaryDirectory() + "switchboard-replicas-\(UUID().uuidString.prefix(8))"
        var replicas: [Replica] = []
        for i in 0..<count {
            let port = try FreePort.find()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [command, "--port", String(port), "--data-dir", "\(folder)/\(i)", "--sql-dir", root + "/sql",
                                 "--plugin-dir", root + "/policies", "--log-level", "warning"] + extra
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = databaseURL
            environment["REDIS_URL"] = redisURL
            environment.merge(added) { $1 }
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            replicas.append(Replica(process: process, base: "http://127.0.0.1:\(port)"))
        }
        for r in replicas {
            var ready = false
            for _ in 0..<300 where !ready {
                ready = (try? await request(r.base + "/readyz", method: "GET").status) == 200
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(ready, "replica \(r.base) did not become ready")
        }
        return replicas
    }

    /// Asks the replicas to stop (SIGTERM) and reaps them on a thread of their own: Foundation's
    /// `waitUntilExit` spins its thread, and on the cooperative pool (2 threads here) it
    /// starved the other tests' servers for seconds.
    static func stop(_ replicas: [Replica]) {
        for r in replicas { r.process.terminate() }
        let processes = replicas.map(\.process)
        Thread { for p in processes { p.waitUntilExit() } }.start()
    }

    static func request(_ url: String, method: String, json: String? = nil, bearer: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test("thousands of rewards spread over three replicas: every replica's statistics equal exactly what was sent")
    func statisticsConverge() async throws {
        _ = try await TestStores.stores()  // migrated; URLs known
        let replicas = try await Self.start(count: 3)
        defer { Self.stop(replicas) }
        let key = TestStores.uniqueKey("replicas")
        let created = try await Self.request(replicas[0].base + "/v1/experiments", method: "POST", json: """
            {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "policy": {"name": "thompson"}}
            """)
        #expect(created.status == 201)

        let rounds = 2_000
        // Each round: assign on one replica, reward on the next, so decisions cross replicas.
        let sent = try await withThrowingTaskGroup(of: (arm: Int, reward: Int).self) { group in
            var results: [(arm: Int, reward: Int)] = []
            for i in 0..<rounds {
                if i >= 24 { results.append(try await group.next()!) }  // at most 24 in flight
                group.addTask {
                    let assign = try await Self.request(replicas[i % 3].base + "/v1/experiments/\(key)/assign", method: "POST",
                                                        json: #"{"unit": "user-\#(i)"}"#)
                    let a = try JSONDecoder().decode(AssignResponse.self, from: assign.body)
                    let arm = ["a", "b", "c"].firstIndex(of: a.variant)!
                    let reward = (i * 7 + arm) % 3 == 0 ? 1 : 0
                    let r = try await Self.request(replicas[(i + 1) % 3].base + "/v1/rewards", method: "POST",
                                                   json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(reward)}"#)
                    #expect(r.status == 200)
                    return (arm, reward)
                }
            }
            for try await r in group { results.append(r) }
            return results
        }
        #expect(sent.count == rounds)
        var expected = [Double](repeating: 0, count: 6)
        for s in sent {
            expected[2 * s.arm] += Double(s.reward)
            expected[2 * s.arm + 1] += Double(1 - s.reward)
        }
        for r in replicas {
            // Every replica flushes every 20 ms and refreshes every 100 ms; polled for slow machines.
            var polled: ExperimentView?
            _ = try await eventually {
                let body = try await Self.request(r.base + "/v1/experiments/\(key)", method: "GET").body
                polled = try JSONDecoder().decode(ExperimentView.self, from: body)
                return polled?.statistics == expected
            }
            let view = try #require(polled)
            #expect(view.statistics == expected, "replica \(r.base)")
            #expect(view.arms.compactMap(\.assignments).reduce(0, +) == Int64(rounds))
            #expect(view.arms.compactMap(\.rewards).reduce(0, +) == Int64(rounds))
        }
    }
}
