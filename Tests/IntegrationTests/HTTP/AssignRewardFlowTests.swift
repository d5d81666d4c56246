import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing


@Suite("Assignment and reward over HTTP, on real PostgreSQL and Redis")
struct AssignRewardFlowTests {
    @Test("an assignment returns the variant, a decision id and the propensity, and is stored in PostgreSQL")
    func assignStoresDecision() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("flow")
            let created = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "control", "weight": 1}, {"name": "green", "weight": 3}], "context_features": ["age"]}
                """)
            #expect(created.status == .created)
            let response = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "user-42", "context": {"age": 31}}"#)
            #expect(response.status == .ok)
            let a = try response.decode(AssignResponse.self)
            #expect(a.experiment == key)
            #expect(["control", "green"].contains(a.variant))
            #expect(a.propensity == (a.variant == "control" ? 0.25 : 0.75))
            let rows = try await TestStores.query(
                "SELECT d.experiment, a.name, d.unit, d.propensity, d.context->>'age', d.policy FROM switchboard.decisions d JOIN switchboard.arms a USING (experiment, arm_index) WHERE d.id = $1::uuid",
                [a.decisionID])
            #expect(rows == [[key, a.variant, "user-42", String(a.propensity), "31", "weighted-split@1"]])
        }
    }

    @Test("the same unit keeps its variant, and units spread over arms by weight")
    func stickyAndWeighted() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("sticky"))
            var first: [String: String] = [:]
            for round in 0..<2 {
                for i in 0..<100 {
                    let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#)
                        .decode(AssignResponse.self)
                    if round == 0 { first["u\(i)"] = a.variant } else { #expect(first["u\(i)"] == a.variant) }
                }
            }
            let greens = first.values.filter { $0 == "green" }.count
            #expect((30...70).contains(greens), "100 units at 50/50 gave \(greens) green")
        }
    }

    @Test("a reward is acknowledged once committed; a repeat is a duplicate counted once; a different value conflicts")
    func rewardIdempotency() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("reward"), metrics: #"[{"name": "reward", "primary": true}, {"name": "revenue"}]"#)
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).decode(AssignResponse.self)
            let body = #"{"decision_id": "\#(a.decisionID)", "reward": 1.5}"#
            let first = try await client.send(.post, "/v1/rewards", json: body)
            #expect(first.status == .ok)
            #expect(try first.decode(RewardResponse.self).status == .recorded)
            let again = try await client.send(.post, "/v1/rewards", json: body)
            #expect(again.status == .ok)
            #expect(try again.decode(RewardResponse.self).status == .duplicate)
            let conflict = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 0}"#)
            #expect(conflict.status == .conflict)
            #expect(try conflict.problem().detail.contains("already has reward 1.5"))
            // Another metric for the same decision is a separate reward.
            let other = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 7, "metric": "revenue"}"#)
            #expect(try other.decode(RewardResponse.self).status == .recorded)

            let rows = try await TestStores.query(
                "SELECT metric, value FROM switchboard.rewards WHERE decision_id = $1::uuid ORDER BY metric", [a.decisionID])
            #expect(rows == [["revenue", "7"], ["reward", "1.5"]])
            let view = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
            let arm = try #require(view.arms.first { $0.name == a.variant })
            #expect(arm.assignments == 1)
            #expect(arm.rewards == 1)
            #expect(arm.rewardSum == 1.5)
            #expect(arm.meanReward == 1.5)
        }
    }

    @Test("concurrent repeats of one reward store it once")
    func concurrentDuplicates() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("race"))
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).decode(AssignResponse.self)
            let statuses = try await withThrowingTaskGroup(of: RewardService.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#)
                            .decode(RewardResponse.self).status!
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .recorded }.count == 1)
            #expect(statuses.filter { $0 == .duplicate }.count == 7)
            // The live counters count it once. They can read 0 for a moment on a loaded machine:
            // the experiment's first statistics are being rebuilt from PostgreSQL (seen taking 3.5 s).
            var counted: Int64 = 0
            for _ in 0..<100 {
                let view = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
                counted = view.arms.compactMap(\.rewards).reduce(0, +)
                if counted > 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(counted == 1)
        }
    }

    @Test("the live server answers the same flow over a real socket")
    func liveServer() async throws {
        let stores = try await TestStores.stores()
        let app = buildApplication(host: "127.0.0.1", port: 0, stores: stores, policies: TestStores.policies, logger: TestStores.logger)
        try await app.test(.live) { client in
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
            let key = try await client.createExperiment(TestStores.uniqueKey("live"))
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).decode(AssignResponse.self)
            let r = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#)
            #expect(try r.decode(RewardResponse.self).status == .recorded)
        }
    }
}
