import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import TestSupport
import Testing

@Suite("Changing a running experiment through the router, on in-memory stores")
struct ExperimentChangeRouterTests {
    @Test("PATCH starts a phase per change, decisions record it, results read per phase with a warning when pooled")
    func phases() async throws {
        try await withMemoryApp { client in
            let key = try await client.createExperiment("phased")
            let same = try await client.send(.patch, "/v1/experiments/\(key)", json: #"{"arms": [{"name": "green", "weight": 1}]}"#)
            #expect(same.status == .ok)
            let unchanged = try same.decode(ExperimentView.self)
            #expect(unchanged.phase == 1 && unchanged.changed == [])
            for i in 0..<50 { _ = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#) }

            let changed = try await client.send(.patch, "/v1/experiments/\(key)", json: """
                {"arms": [{"name": "green", "weight": 3}, {"name": "blue", "weight": 1}], "analysis": "fixed_horizon",
                 "metrics": [{"name": "reward", "primary": true}, {"name": "refunds", "kind": "count", "direction": "decrease"}]}
                """)
            #expect(changed.status == .ok, "\(String(buffer: changed.body))")
            let view = try changed.decode(ExperimentView.self)
            #expect(view.phase == 2 && view.changed == ["weights", "arms", "metrics", "analysis"])
            #expect(view.arms.map(\.name) == ["control", "green", "blue"] && view.arms.map(\.weight) == [1, 3, 1])
            var seen: [String: Int] = [:]
            for i in 0..<400 {
                let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "v\#(i)"}"#).decode(AssignResponse.self)
                seen[a.variant, default: 0] += 1
                #expect(abs(a.propensity - [0.2, 0.6, 0.2][["control", "green", "blue"].firstIndex(of: a.variant) ?? 0]) < 1e-12)
            }
            #expect((seen["green"] ?? 0) > 180 && (seen["blue"] ?? 0) > 40 && (seen["control"] ?? 0) > 40, "\(seen)")

            let all = try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsView.self).results
            #expect(all.phases.map(\.phase) == [1, 2] && all.phases[1].change == "weights,arms,metrics,analysis")
            #expect(all.arms.map(\.decisions).reduce(0, +) == 450)
            #expect(all.warnings.contains { $0.contains("changed between phases") })
            #expect(all.metrics.map(\.metric.name) == ["reward", "refunds"] && all.analysis == .fixedHorizon)
            let first = try await client.send(.get, "/v1/experiments/\(key)/results?phase=1").decode(ResultsView.self).results
            #expect(first.phase == 1 && first.arms.map(\.decisions) == [first.arms[0].decisions, first.arms[1].decisions, 0])
            #expect(first.arms.map(\.decisions).reduce(0, +) == 50 && first.warnings.isEmpty)
            let second = try await client.send(.get, "/v1/experiments/\(key)/results?phase=2").decode(ResultsView.self).results
            #expect(second.arms.map(\.decisions).reduce(0, +) == 400)
            let bad = try await client.send(.get, "/v1/experiments/\(key)/results?phase=3")
            #expect(bad.status == .unprocessableContent)
        }
    }

    @Test("invalid changes are 4xx naming the field; nothing is stored")
    func invalid() async throws {
        try await withMemoryApp { client in
            let key = try await client.createExperiment("guarded")
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"arms": [{"name": "control", "retired": true}]}"#, .unprocessableContent, "the control arm 'control' cannot retire"),
                (#"{"arms": [{"name": "green", "weight": -1}]}"#, .unprocessableContent, "field 'arms[0].weight'"),
                (#"{"arms": [{"name": "green", "weight": 0}, {"name": "control", "weight": 0}]}"#, .unprocessableContent, "at least one arm"),
                (#"{"arms": [{"name": "bad name"}]}"#, .unprocessableContent, "field 'arms[0].name'"),
                (#"{"metrics": [{"name": "revenue", "primary": true}]}"#, .unprocessableContent, "must keep the primary metric 'reward'"),
                (#"{"policy": {"name": "thompson"}}"#, .unprocessableContent, "field 'policy.name' cannot change"),
                (#"{"policy": {"config": [1]}}"#, .unprocessableContent, "must be a JSON object"),
                (#"{"analysis": "bayesian"}"#, .unprocessableContent, "field 'analysis' is invalid"),
                (#"[1, 2]"#, .unprocessableContent, "must be an object"),
            ]
            for (body, status, detail) in cases {
                let r = try await client.send(.patch, "/v1/experiments/\(key)", json: body)
                #expect(r.status == status, "\(body): \(r.status)")
                let problem = try r.problem()
                #expect(problem.detail.contains(detail), "\(body): \(problem.detail)")
            }
            #expect(try await client.send(.get, "/v1/experiments/\(key)").decode(ExperimentView.self).phase == 1)
            #expect(try await client.send(.patch, "/v1/experiments/nope", json: "{}").status == .notFound)
        }
    }

    @Test("archive keeps results and refuses changes; delete hides the experiment, keeps its key taken and its decisions")
    func archiveAndDelete() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            let key = try await client.createExperiment("retiring")
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#).decode(AssignResponse.self)
            #expect(try await client.send(.post, "/v1/experiments/\(key)/archive").status == .ok)
            #expect(try await client.send(.get, "/v1/experiments").decode(ExperimentList.self).experiments.allSatisfy { $0.key != key })
            #expect(try await client.send(.get, "/v1/experiments?include=archived").decode(ExperimentList.self).experiments.contains { $0.key == key })
            let refused = try await client.send(.patch, "/v1/experiments/\(key)", json: #"{"analysis": "fixed_horizon"}"#)
            #expect(refused.status == .conflict)
            #expect(try refused.problem().detail.contains("is archived and cannot be changed"))
            #expect(try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsView.self).results.arms.map(\.decisions).reduce(0, +) == 1)

            #expect(try await client.send(.delete, "/v1/experiments/\(key)").status == .noContent)
            #expect(try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#).status == .gone)
            #expect(try await client.send(.get, "/v1/experiments/\(key)").status == .gone)
            let again = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}]}"#)
            #expect(again.status == .unprocessableContent)
            #expect(try again.problem().detail.contains("belonged to a deleted experiment"))
            #expect(try await memory.decisionLog.decisions(ids: [try #require(UUID(uuidString: a.decisionID))]).count == 1)
        }
    }

    @Test("a bandit's retired arm gets no new units; the propensities renormalise over the others")
    func retiredBanditArm() async throws {
        try await withMemoryApp { client in
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "bandit3", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "policy": {"name": "thompson"}}"#)
            let r = try await client.send(.patch, "/v1/experiments/bandit3", json: #"{"arms": [{"name": "c", "retired": true}]}"#)
            #expect(try r.decode(ExperimentView.self).arms.map { $0.retired ?? false } == [false, false, true])
            for i in 0..<200 {
                let a = try await client.send(.post, "/v1/experiments/bandit3/assign", json: #"{"unit": "n\#(i)"}"#).decode(AssignResponse.self)
                #expect(a.variant != "c")
                #expect(a.propensity > 0 && a.propensity <= 1)
            }
        }
    }
}
