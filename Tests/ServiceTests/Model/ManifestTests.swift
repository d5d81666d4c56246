import ExperimentService
import Foundation
import PluginSupport
import Testing

/// Reading experiment files (`ManifestLoader`) and planning what applying them changes
/// (`ManifestPlan`), without a service.
@Suite("Experiments as files: reading and planning")
struct ManifestTests {
    static let yaml = """
        # two documents
        key: colors
        arms:
          - {name: blue, value: "#0000ff"}
          - {name: green, value: {hex: "#00ff00"}, weight: 2}
        ---
        kind: Policy
        path: policies/libexample.so
        ---
        kind: Backend
        name: iris
        path: policies/liblinear_backend.so
        model: policies/models/iris-linear
        """

    @Test("documents of every kind, each with its file and line; JSON reads as YAML")
    func read() throws {
        let manifests = try ManifestLoader.parse(Self.yaml, file: "x.yaml")
        #expect(manifests.map(\.name) == ["experiment colors", "policy library policies/libexample.so", "backend iris"])
        #expect(manifests.map(\.source.line) == [2, 7, 10])
        guard case .experiment(let spec, _) = manifests[0] else { Issue.record("not an experiment"); return }
        #expect(spec.arms.map(\.value) == [.string("#0000ff"), .object(["hex": .string("#00ff00")])])
        #expect(spec.arms[1].weight == 2)
        let json = try ManifestLoader.parse(#"{"key": "j", "arms": [{"name": "a", "value": true}]}"#, file: "j.json")
        #expect(json.map(\.name) == ["experiment j"])
    }

    @Test("a bad document names its line and field")
    func errors() {
        func message(_ text: String) -> String {
            do { _ = try ManifestLoader.parse(text, file: "f.yaml"); return "no error" } catch { return "\(error)" }
        }
        #expect(message("key: k\narms:\n  - name: a\n  - name: b\n    weight: -1\n").hasPrefix("f.yaml:5: field 'arms[1].weight' must be a finite number"))
        #expect(message("key: k\narms: 3\n").hasPrefix("f.yaml:2: field 'arms' must be"))
        #expect(message("arms: [{name: a}]\n").hasPrefix("f.yaml:1: field 'key' is required"))
        #expect(message("kind: Widget\nkey: k\n").hasPrefix("f.yaml:1: field 'kind' must be Experiment, Policy or Backend"))
        #expect(message("key: k\narms: [\n").contains("is not valid YAML or JSON"))
        #expect(message("key: k\narms: [{name: a}]\nstatus: deleted\n").hasPrefix("f.yaml:3: field 'status' cannot be 'deleted'"))
    }

    static func view(_ json: String) throws -> ExperimentView {
        try JSONDecoder().decode(ExperimentView.self, from: Data(json.utf8))
    }

    static let current = #"""
        {"key": "k", "status": "running", "control": "a", "salt": "s", "hash_version": 1, "context_features": [], "phase": 1,
         "analysis": "sequential", "metrics": [{"name": "reward", "kind": "continuous", "direction": "increase", "primary": true}],
         "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]}
        """#

    static func spec(_ yaml: String) throws -> ExperimentSpec {
        guard case .experiment(let spec, _) = try ManifestLoader.parse(yaml, file: "p.yaml")[0] else { throw ManifestError(file: "", message: "") }
        return spec
    }

    @Test("plans: create, unchanged, weights and arms, status, and what cannot change")
    func plans() throws {
        let current = try Self.view(Self.current)
        guard case .create = try ManifestPlan.plan(try Self.spec("key: k\narms: [{name: a}, {name: b}]"), current: nil).action else {
            Issue.record("not a create"); return
        }
        guard case .unchanged = try ManifestPlan.plan(try Self.spec("key: k\narms: [{name: a}, {name: b}]"), current: current).action else {
            Issue.record("not unchanged"); return
        }
        let edited = try ManifestPlan.plan(try Self.spec("key: k\narms: [{name: a, weight: 3}, {name: c}]\nstatus: paused"), current: current)
        guard case .update(let change?, let then) = edited.action else { Issue.record("not an update"); return }
        #expect(then == .pause)
        #expect(change.arms?.map(\.name) == ["a", "c", "b"] && change.arms?[0].weight == 3 && change.arms?[2].retired == true)
        #expect(edited.differences.contains("arms[a].weight: 1.0 → 3.0") && edited.differences.contains("status: running → paused"))
        for (yaml, field) in [("key: k\narms: [{name: a}, {name: b}]\ncontrol: b", "control"),
                              ("key: k\narms: [{name: a}, {name: b}]\npolicy: {name: thompson}", "policy.name"),
                              ("key: k\narms: [{name: a, value: 1}, {name: b}]", "arms[0].value")] {
            #expect(throws: ServiceError.self) { try ManifestPlan.plan(try Self.spec(yaml), current: current) }
            do { _ = try ManifestPlan.plan(try Self.spec(yaml), current: current) } catch let ServiceError.invalidField(path, _) {
                #expect(path == field)
            } catch { Issue.record("\(error)") }
        }
    }
}
