import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing

typealias PolicyList = PoliciesController<BasicRequestContext>.PolicyList

@Suite("Experiments that use policy plugins, over HTTP on real stores")
struct PolicyExperimentTests {
    static let builtIns = ["uniform", "weighted-split", "epsilon-greedy", "ucb1", "thompson", "thompson-gaussian",
                           "softmax", "exp3", "discounted-thompson", "linucb", "ensemble"]

    @Test("GET /v1/policies lists every built-in policy with its capabilities and digest")
    func listing() async throws {
        try await withApp { client in
            let list = try await client.send(.get, "/v1/policies").decode(PolicyList.self)
            #expect(Set(list.policies.map(\.name)) == Set(Self.builtIns))
            let linucb = try #require(list.policies.first { $0.name == "linucb" })
            #expect(linucb.capabilities == ["contextual", "thread_safe"])
            #expect(linucb.sha256.count == 64)
            #expect(linucb.path.hasSuffix("libSwitchboardPolicies.so"))
        }
    }

    @Test("every built-in policy runs an experiment: assign, reward, learn", arguments: builtIns)
    func policyRunsExperiment(name: String) async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("policy-\(name)")
            let contextual = name == "linucb"
            let features = contextual ? #", "context_features": ["x", "y"]"# : ""
            let created = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "policy": {"name": "\(name)"}\(features)}
                """)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let view = try created.decode(ExperimentView.self)
            #expect(view.policy?.name == name)
            #expect(view.policy?.version == "1")
            for i in 0..<12 {
                let context = contextual ? #", "context": {"x": \#(Double(i) / 12), "y": 1}"# : ""
                let assign = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"\#(context)}"#)
                #expect(assign.status == .ok, "\(String(buffer: assign.body))")
                let a = try assign.decode(AssignResponse.self)
                #expect(a.propensity > 0 && a.propensity <= 1)
                let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(a.variant == "b" ? 1 : 0)}"#)
                #expect(reward.status == .ok, "\(String(buffer: reward.body))")
            }
            let policyLabel = try await TestStores.query("SELECT DISTINCT policy FROM switchboard.decisions WHERE experiment = $1", [key])
            #expect(policyLabel == [["\(name)@1"]])
        }
    }

    @Test("Thompson sampling moves traffic to the arm that pays, through Redis-held statistics")
    func thompsonLearns() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("learn")
            _ = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "bad"}, {"name": "good"}], "policy": {"name": "thompson"}}
                """)
            var lastGood = 0
            for i in 0..<150 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
                let r = a.variant == "good" ? 1 : 0
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(r)}"#)
                if i >= 100 && a.variant == "good" { lastGood += 1 }
            }
            #expect(lastGood >= 45, "only \(lastGood) of the last 50 assignments went to the paying arm")
        }
    }

    @Test("a reward outside a Bernoulli policy's range is refused and not stored")
    func rewardOutOfRange() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("range")
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}, "metrics": [{"name": "reward", "primary": true}, {"name": "revenue"}]}"#)
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#).decode(AssignResponse.self)
            let r = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 3}"#)
            #expect(r.status == .unprocessableContent)
            #expect(try r.problem().detail.contains("policy thompson@1 refused the request: thompson (Bernoulli) needs rewards in [0, 1]; got 3.0"))
            #expect(try await TestStores.query("SELECT count(*) FROM switchboard.rewards WHERE decision_id = $1::uuid", [a.decisionID]) == [["0"]])
            // A guardrail metric is not learned from, so any number is fine.
            let revenue = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 3, "metric": "revenue"}"#)
            #expect(revenue.status == .ok)
        }
    }

    @Test("context is checked against the declared features; a reward hours later uses the logged context")
    func contextFeatures() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("ctx")
            _ = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "linucb"}, "context_features": ["age", "visits"]}
                """)
            let missing = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u", "context": {"age": 1}}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(try missing.problem().detail == "context is missing the feature 'visits'")
            let extra = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u", "context": {"age": 1, "visits": 2, "zip": 3}}"#)
            #expect(try extra.problem().detail == "context has the unknown feature 'zip'; declared: age, visits")
            let none = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#)
            #expect(none.status == .unprocessableContent)

            // Assign first, reward later: the update uses the decision's stored context.
            var decisions: [AssignResponse] = []
            for i in 0..<5 {
                decisions.append(try await client.send(.post, "/v1/experiments/\(key)/assign",
                                                       json: #"{"unit": "u\#(i)", "context": {"age": \#(i), "visits": 2}}"#).decode(AssignResponse.self))
            }
            for d in decisions {
                let r = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(d.decisionID)", "reward": 1}"#)
                #expect(r.status == .ok)
            }
            // LinUCB state per arm: A (3x3 with intercept) then b (3). b's intercept entries sum to the rewards.
            let view = try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self)
            let s = try #require(view.statistics)
            #expect(s.count == 2 * 12)
            let bIntercepts = s[9 + 2] + s[12 + 9 + 2]
            let bAges = s[9] + s[12 + 9]
            #expect(bIntercepts == 5)
            #expect(bAges == 0 + 1 + 2 + 3 + 4)
        }
    }
}
