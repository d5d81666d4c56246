import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import TestSupport
import Testing

@Suite("Assign and reward through the router, on in-memory stores")
struct AssignRewardRouterTests {
    static let thompson = #"{"key": "KEY", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}"#

    @Test("a fixed split is sticky by the unit's hash alone: no unit is claimed, each decision is recorded")
    func fixedSplit() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            let key = try await client.createExperiment("split")
            var first: [String: String] = [:]
            for round in 0..<2 {
                for i in 0..<40 {
                    let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                    #expect(a.propensity == 0.5)
                    if round == 0 { first["u\(i)"] = a.variant } else { #expect(first["u\(i)"] == a.variant) }
                }
            }
            #expect(memory.stickyUnits.arm(experiment: key, unit: "u0") == nil)
            let results = try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsView.self).results
            #expect(results.arms.map(\.decisions).reduce(0, +) == 80)
        }
    }

    @Test("an adaptive policy claims the unit: a returning unit keeps its arm and its first propensity")
    func adaptiveIsSticky() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            _ = try await client.send(.post, "/v1/experiments", json: Self.thompson.replacingOccurrences(of: "KEY", with: "bandit"))
            let first = try await client.send(.post, "/v1/experiments/bandit/assign", json: #"{"unit": "back"}"#).decode(AssignResponse.self)
            for _ in 0..<5 {
                let again = try await client.send(.post, "/v1/experiments/bandit/assign", json: #"{"unit": "back"}"#).decode(AssignResponse.self)
                #expect(again.variant == first.variant && again.propensity == first.propensity && again.decisionID != first.decisionID)
            }
            let held = try #require(memory.stickyUnits.arm(experiment: "bandit", unit: "back"))
            #expect(held.propensity == first.propensity)
            let recorded = try await memory.decisionLog.decisions(ids: [try #require(UUID(uuidString: first.decisionID))])
            #expect(recorded.values.first?.armIndex == held.arm)
        }
    }

    @Test("rewards: recorded, a repeat is a duplicate, another value a 409, an unknown decision a 404, an undeclared metric a 422; a batch answers per item")
    func rewardOutcomes() async throws {
        try await withMemoryApp { client in
            let key = try await client.createExperiment("rewards")
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#).decode(AssignResponse.self)
            let body = #"{"decision_id": "\#(a.decisionID)", "reward": 1.5}"#
            #expect(try await client.send(.post, "/v1/rewards", json: body).decode(RewardResponse.self).status == .recorded)
            #expect(try await client.send(.post, "/v1/rewards", json: body).decode(RewardResponse.self).status == .duplicate)
            let conflict = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 0}"#)
            #expect(conflict.status == .conflict)
            #expect(try conflict.problem().detail.contains("already has reward 1.5"))
            let unknown = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1}"#)
            #expect(unknown.status == .notFound)
            let batch = try await client.send(.post, "/v1/rewards", json: """
                {"rewards": [{"decision_id": "\(a.decisionID)", "reward": 2, "metric": "revenue"},
                             {"decision_id": "\(a.decisionID)", "reward": 1.5},
                             {"decision_id": "not-a-uuid", "reward": 1}]}
                """)
            let answer = try JSONDecoder().decode(RewardsController<BasicRequestContext>.BatchResponse.self, from: Data(batch.body.readableBytesView))
            #expect(answer.results.map(\.status) == [nil, .duplicate, nil])
            #expect(answer.results[0].error?.statusCode == 422)
            #expect(answer.results[0].error?.detail == "experiment '\(key)' declares no metric 'revenue'; its metrics: reward")
            #expect(answer.results[1].metric == "reward")
            #expect((answer.recorded, answer.duplicates, answer.failed) == (0, 1, 2))
        }
    }

    @Test("a bandit learns from rewards: counters and statistics reach the statistics store through the cache")
    func learning() async throws {
        try await withMemoryApp { client in
            _ = try await client.send(.post, "/v1/experiments", json: Self.thompson.replacingOccurrences(of: "KEY", with: "learn"))
            for i in 0..<30 {
                let a = try await client.send(.post, "/v1/experiments/learn/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(a.variant == "b" ? 1 : 0)}"#)
            }
            let view = try await client.send(.get, "/v1/experiments/learn").decode(ExperimentView.self)
            #expect(view.arms.compactMap(\.assignments).reduce(0, +) == 30)
            #expect(view.arms.compactMap(\.rewards).reduce(0, +) == 30)
            // Thompson's statistics: successes and failures per arm, one per reward.
            #expect(view.statistics?.reduce(0, +) == 30)
        }
    }

    @Test("statistics lost by the store are rebuilt exactly from the decision log")
    func rebuild() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            _ = try await client.send(.post, "/v1/experiments", json: Self.thompson.replacingOccurrences(of: "KEY", with: "lost"))
            for i in 0..<20 {
                let a = try await client.send(.post, "/v1/experiments/lost/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(i % 3 == 0 ? 1 : 0)}"#)
            }
            let before = try await client.send(.get, "/v1/experiments/lost").decode(ExperimentView.self)
            memory.statistics.wipe()
            var after = before
            for _ in 0..<500 {  // the rebuild starts at the cache's next refresh (100 ms); 10 s for a loaded machine
                after = try await client.send(.get, "/v1/experiments/lost").decode(ExperimentView.self)
                if after.arms.compactMap(\.assignments).reduce(0, +) == 20 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(after.statistics == before.statistics)
            #expect(after.arms.map(\.assignments) == before.arms.map(\.assignments))
            #expect(after.arms.map(\.rewardSum) == before.arms.map(\.rewardSum))
        }
    }

    @Test("API keys: no key is a 401, a client key on an admin route a 403, the admin key passes")
    func keys() async throws {
        let keys = APIKeys(admin: ["admin-secret"], client: ["client-secret"])
        try await withMemoryApp(keys: keys) { client in
            let body = #"{"key": "guarded", "arms": [{"name": "a"}, {"name": "b"}]}"#
            #expect(try await client.send(.post, "/v1/experiments", json: body).status == .unauthorized)
            #expect(try await client.send(.post, "/v1/experiments", json: body, key: "client-secret").status == .forbidden)
            #expect(try await client.send(.post, "/v1/experiments", json: body, key: "admin-secret").status == .created)
            let assign = try await client.send(.post, "/v1/experiments/guarded/assign", json: #"{"unit": "u"}"#, key: "client-secret")
            #expect(assign.status == .ok)
        }
    }

    @Test("bad input: malformed JSON is a 400, an unknown experiment a 404, both problem documents")
    func badInput() async throws {
        try await withMemoryApp { client in
            let malformed = try await client.send(.post, "/v1/experiments/x/assign", json: #"{"unit": "#)
            #expect(malformed.status == .badRequest)
            #expect(try malformed.problem().status == 400)
            let unknown = try await client.send(.post, "/v1/experiments/nope/assign", json: #"{"unit": "u"}"#)
            #expect(unknown.status == .notFound)
            #expect(try unknown.problem().detail.contains("nope"))
        }
    }

    @Test("hostile reward bodies get a precise 4xx problem and the service keeps serving",
          arguments: [
              (#"{"rewards": "x"}"#, "rewards"), (#"{"rewards": []}"#, "rewards"), (#"[]"#, "(body)"),
              (#"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1e308}"#, "reward"),
              (#"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1, "metric": "a\u0000b"}"#, "metric"),
              (#"{"decision_id": "01900000-0000-7000-8000-000000000000"}"#, "reward"), ("", "empty"),
          ])
    func hostileRewardBodies(body: String, names: String) async throws {
        try await withMemoryApp { client in
            let response = try await client.send(.post, "/v1/rewards", json: body)
            let problem = try response.problem()
            #expect((400..<500).contains(Int(response.status.code)), "\(body): \(response.status)")
            #expect(problem.detail.contains(names), "\(body): \(problem.detail)")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }
}
