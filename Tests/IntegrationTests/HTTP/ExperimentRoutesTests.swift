import ExperimentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Experiment routes")
struct ExperimentRoutesTests {
    @Test("creating an experiment stores it in PostgreSQL and returns it with zero counters")
    func create() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("create")
            let response = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a", "weight": 2}, {"name": "b", "weight": 1}, {"name": "c", "weight": 1}],
                 "control": "b", "context_features": ["age"], "sticky_ttl_seconds": 60, "reward_window_seconds": 3600}
                """)
            #expect(response.status == .created)
            #expect(response.headers[.location] == "/v1/experiments/\(key)")
            let view = try response.decode(ExperimentView.self)
            #expect(view.key == key)
            #expect(view.control == "b")
            #expect(view.status == "running")
            #expect(view.hashVersion == 1)
            #expect(view.arms.map(\.name) == ["a", "b", "c"])
            #expect(view.arms.map(\.assignments) == [0, 0, 0])
            let rows = try await TestStores.query(
                "SELECT e.control_arm, e.context_features::text, e.sticky_ttl_seconds, e.reward_window_seconds, e.salt, string_agg(a.name || ':' || a.weight, ',' ORDER BY a.arm_index) FROM switchboard.experiments e JOIN switchboard.arms a ON a.experiment = e.key WHERE e.key = $1 GROUP BY e.key",
                [key])
            #expect(rows == [["b", "{age}", "60", "3600", view.salt, "a:2,b:1,c:1"]])
        }
    }

    @Test("GET returns the definition with live per-arm counts, and the list includes it")
    func showAndList() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("show"))
            for i in 0..<10 { _ = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#) }
            let view = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
            #expect(view.arms.compactMap(\.assignments).reduce(0, +) == 10)
            let list = try await client.send(.get, "/v1/experiments").decode(ExperimentList.self)
            #expect(list.experiments.contains { $0.key == key })
        }
    }

    @Test("an experiment created through one instance is found by another (no shared memory)")
    func visibleAcrossInstances() async throws {
        let key = TestStores.uniqueKey("replica")
        try await withApp { client in _ = try await client.createExperiment(key) }
        try await withApp { client in
            let response = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#)
            #expect(response.status == .ok)
        }
    }

    @Test("a fixed salt reproduces the same buckets in a new experiment")
    func fixedSalt() async throws {
        try await withApp { client in
            let arms = #"[{"name": "control", "weight": 1}, {"name": "green", "weight": 1}]"#
            let (k1, k2) = (TestStores.uniqueKey("salt"), TestStores.uniqueKey("salt"))
            for key in [k1, k2] {
                let r = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": \#(arms), "salt": "shared"}"#)
                #expect(r.status == .created)
            }
            for i in 0..<20 {
                let a = try await client.send(.post, "/v1/experiments/\(k1)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                let b = try await client.send(.post, "/v1/experiments/\(k2)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                #expect(a.variant == b.variant)
            }
        }
    }
}
