import ExperimentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("switchboard.experiment_results")
struct ExperimentResultsViewTests {
    @Test("per-arm decisions, rewards, sums and means equal what the test itself sent")
    func matchesIndependentCount() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("view"),
                arms: #"[{"name": "control", "weight": 1}, {"name": "green", "weight": 1}, {"name": "unused", "weight": 0}]"#)
            var decisions: [String: Int] = [:]
            var rewards: [String: [Double]] = [:]
            for i in 0..<60 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                decisions[a.variant, default: 0] += 1
                guard i % 3 != 0 else { continue }  // a third of the decisions get no reward
                let value = Double(i % 5) / 2
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(value)}"#)
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 9, "metric": "other"}"#)
                rewards[a.variant, default: []].append(value)
            }
            let rows = try await TestStores.query(
                "SELECT arm, is_control::text, decisions, rewards, reward_sum, mean_reward FROM switchboard.experiment_results WHERE experiment = $1 ORDER BY arm_index",
                [key])
            #expect(rows.map { $0[0] } == ["control", "green", "unused"])
            for row in rows {
                let arm = row[0]!
                let values = rewards[arm] ?? []
                #expect(row[1] == (arm == "control" ? "true" : "false"))
                #expect(Int(row[2]!) == decisions[arm] ?? 0)
                #expect(Int(row[3]!) == values.count)
                #expect(abs(Double(row[4]!)! - values.reduce(0, +)) < 1e-9)
                if values.isEmpty {
                    #expect(row[5] == nil)
                } else {
                    #expect(abs(Double(row[5]!)! - values.reduce(0, +) / Double(values.count)) < 1e-9)
                }
            }
        }
    }
}
