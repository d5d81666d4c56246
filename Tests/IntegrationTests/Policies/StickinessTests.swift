@testable import ExperimentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Sticky assignment under adaptive policies")
struct StickinessTests {
    @Test("a unit keeps its first arm while the policy learns; the Redis key carries the experiment's TTL")
    func unitKeepsArm() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("sticky-bandit")
            _ = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "policy": {"name": "thompson"}, "sticky_ttl_seconds": 600}
                """)
            let first = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "returning-user"}"#).decode(AssignResponse.self)
            // Teach the policy that another arm is far better, then ask again.
            for i in 0..<60 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "other-\#(i)"}"#).decode(AssignResponse.self)
                let reward = a.variant == first.variant ? 0 : 1
                _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(reward)}"#)
            }
            for _ in 0..<5 {
                let again = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "returning-user"}"#).decode(AssignResponse.self)
                #expect(again.variant == first.variant)
                #expect(again.propensity == first.propensity)
                #expect(again.decisionID != first.decisionID)
            }
            let ttl = try await TestStores.redis([["TTL", RedisStickyUnits.key(key, unit: "returning-user")]])[0]
            guard case .integer(let seconds) = ttl else { Issue.record("no TTL: \(ttl)"); return }
            #expect((500...600).contains(seconds))  // 600 s, less the time the test took since
        }
    }

    @Test("a fixed split stores nothing per unit (it is sticky by its hash)")
    func fixedSplitIsStateless() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("sticky-split"))
            _ = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#)
            let exists = try await TestStores.redis([["EXISTS", RedisStickyUnits.key(key, unit: "u")]])[0]
            #expect(exists == .integer(0))
        }
    }
}
