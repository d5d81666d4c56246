import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing

@Suite("Prometheus /metrics")
struct MetricsTests {
    /// The value of the sample `name{labels}` in a Prometheus text exposition.
    func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
            let inner = line.dropFirst(name.count + 1).prefix { $0 != "}" }
            let pairs = inner.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1) }
            let found = Dictionary(uniqueKeysWithValues: pairs.map { (String($0[0]), String($0[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) })
            if labels.allSatisfy({ found[$0.key] == $0.value }) {
                return Double(line.split(separator: " ").last ?? "")
            }
        }
        return nil
    }

    @Test("assignments, rewards, route latencies, group-commit batches and Redis flushes are exported")
    func serviceMetrics() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("metrics")
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}, {"name": "b", "weight": 0}]}"#)
            for i in 0..<3 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                if i < 2 { _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#) }
            }
            _ = try await client.send(.get, "/v1/experiments/\(key)")  // forces a Redis flush
            let bandit = TestStores.uniqueKey("metrics-bandit")
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(bandit)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}"#)
            #expect(try await client.send(.post, "/v1/experiments/\(bandit)/assign", json: #"{"unit": "u"}"#).status == .ok)
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            #expect(sample(text, "switchboard_assignments_total", ["experiment": key, "arm": "a"]) == 3)
            #expect(sample(text, "switchboard_rewards_total", ["experiment": key, "metric": "reward"]) == 2)
            #expect(text.contains("switchboard_group_commit_rows_bucket"))
            #expect(text.contains("switchboard_postgres_commit_seconds_bucket"))
            #expect(text.contains("switchboard_redis_flush_seconds_bucket"))
            #expect(text.contains("switchboard_redis_sticky_claim_seconds_bucket"))
            #expect(text.contains("switchboard_write_queue_depth"))
            #expect(text.contains("http_server_request_duration_bucket"))
        }
    }

    @Test("counters a plugin reports through the host callback are exported")
    func pluginMetrics() async throws {
        let folder = NSTemporaryDirectory() + "switchboard-metrics-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL.path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-DMETRICS", "-I", root + "/Sources/SwitchboardABI/include",
                        "-o", folder + "/libmetrics.so", root + "/Tests/Fixtures/plugins/broken_plugin.c"]
        try cc.run()
        cc.waitUntilExit()
        let registry = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: folder + "/cache", logger: TestStores.logger)
        try registry.loadTrusted(path: PolicyBootstrap.builtInLibraryPath())
        try registry.register(path: folder + "/libmetrics.so")
        try await withApp(policies: registry) { client in
            let key = TestStores.uniqueKey("plugin-metrics")
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "fixture-uniform"}}"#)
            for i in 0..<4 { _ = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#) }
            let text = String(buffer: try await client.send(.get, "/metrics").body)
            #expect((sample(text, "switchboard_plugin_metric", ["name": "fixture_choices"]) ?? 0) >= 4)
        }
    }
}
