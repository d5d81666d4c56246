@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Changes to a running bandit on real PostgreSQL and Redis.
@Suite("Changing a running bandit, on real stores")
struct ExperimentChangeFlowTests {
    @Test("an arm added to a Thompson bandit: its statistics are rebuilt for three arms, it gets traffic, its rewards are learned; the change is a phase")
    func addArmToBandit() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("grow")
            let created = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"},
                 "metrics": [{"name": "conversion", "kind": "binary"}]}
                """)
            try #require(created.status == .created)
            for i in 0..<40 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(i % 3 == 0 ? 1 : 0)}"#)
            }
            let before = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
            let perArm = (before.statistics?.count ?? 0) / 2
            #expect(perArm > 0)

            let changed = try await client.send(.patch, "/v1/experiments/\(key)", json: #"{"arms": [{"name": "c"}]}"#)
            #expect(changed.status == .ok, "\(String(buffer: changed.body))")
            #expect(try changed.decode(ExperimentView.self).changed == ["arms"])
            let after = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
            #expect(after.statistics?.count == 3 * perArm && after.phase == 2)
            // The rebuilt statistics of a and b are what they learned before the change.
            #expect(Array(after.statistics?.prefix(2 * perArm) ?? []) == Array(before.statistics?.prefix(2 * perArm) ?? []))

            var learnedOnC = false
            for i in 0..<80 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "n\#(i)"}"#).decode(AssignResponse.self)
                let r = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#).decode(RewardResponse.self)
                #expect(r.status == .recorded && r.learned == true)
                if a.variant == "c" { learnedOnC = true }
            }
            #expect(learnedOnC, "the new arm got no traffic in 80 assignments")
            let probabilities = try await TestStores.query(
                "SELECT DISTINCT array_length(probabilities, 1), phase FROM switchboard.decisions WHERE experiment = $1 ORDER BY phase", [key])
            #expect(probabilities == [["2", "1"], ["3", "2"]])
            let results = try await client.send(.get, "/v1/experiments/\(key)/results?phase=2").decode(ResultsView.self).results
            #expect(results.arms.map(\.arm) == ["a", "b", "c"] && results.arms.map(\.decisions).reduce(0, +) == 80)
        }
    }
}
