import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Experiment lifecycle: draft, running, paused, stopped")
struct LifecycleTests {
    @Test("draft assigns nothing; paused and stopped assign the control arm; stopped cannot restart")
    func transitions() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("life")
            let created = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "control": "b", "policy": {"name": "thompson"}, "status": "draft"}
                """)
            #expect(try created.decode(ExperimentView.self).status == "draft")
            let draft = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#)
            #expect(draft.status == .conflict)
            #expect(try draft.problem().detail == "experiment '\(key)' is a draft; start it with POST /v1/experiments/\(key)/start")

            #expect(try await client.send(.post, "/v1/experiments/\(key)/start").decode(ExperimentView.self).status == "running")
            #expect(try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).status == .ok)

            #expect(try await client.send(.post, "/v1/experiments/\(key)/pause").decode(ExperimentView.self).status == "paused")
            for i in 0..<5 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "p\#(i)"}"#).decode(AssignResponse.self)
                #expect(a.variant == "b")
                #expect(a.propensity == 1)
            }
            let labels = try await TestStores.query("SELECT DISTINCT policy FROM switchboard.decisions WHERE experiment = $1 ORDER BY 1", [key])
            #expect(labels == [["control (paused)"], ["thompson@1"]])

            #expect(try await client.send(.post, "/v1/experiments/\(key)/stop").decode(ExperimentView.self).status == "stopped")
            let stopped = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "s1"}"#).decode(AssignResponse.self)
            #expect(stopped.variant == "b")
            let restart = try await client.send(.post, "/v1/experiments/\(key)/start")
            #expect(restart.status == .conflict)
            #expect(try restart.problem().detail.contains("cannot start experiment '\(key)': it is stopped"))
            #expect(try await client.send(.post, "/v1/experiments/nope-\(key)/pause").status == .notFound)
        }
    }

    @Test("a stopped experiment stops learning but keeps recording rewards")
    func stoppedStopsLearning() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("stopped")
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}"#)
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#).decode(AssignResponse.self)
            let before = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self).statistics
            _ = try await client.send(.post, "/v1/experiments/\(key)/stop")
            #expect(try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#).status == .ok)
            let after = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self).statistics
            #expect(before == after)
            #expect(try await TestStores.query("SELECT count(*) FROM switchboard.rewards WHERE decision_id = $1::uuid", [a.decisionID]) == [["1"]])
        }
    }

    @Test("a pause made on one replica reaches another within a second")
    func propagation() async throws {
        let key = TestStores.uniqueKey("propagate")
        try await withApp { replicaA in
            _ = try await replicaA.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "control"}, {"name": "b", "weight": 1000}]}"#)
            try await withApp { replicaB in
                // Replica B caches the running experiment.
                #expect(try await replicaB.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "warm"}"#).status == .ok)
                _ = try await replicaA.send(.post, "/v1/experiments/\(key)/pause")
                let paused = ContinuousClock.now
                var seenPaused = false
                while ContinuousClock.now - paused < .seconds(1) {
                    let a = try await replicaB.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "probe"}"#).decode(AssignResponse.self)
                    if a.propensity == 1 && a.variant == "control" { seenPaused = true; break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(seenPaused, "replica B still assigned by policy a second after the pause")
            }
        }
    }
}
