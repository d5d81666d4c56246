@testable import ExperimentService
import Foundation
import Testing

/// `switchboard apply`, `diff` and `get` (the built binary) against a live
/// `switchboard serve` with keys, on a database and Redis database of their own (`--prune`
/// archives every experiment no file declares).
@Suite("Experiments as files: apply, diff, get against a live service")
struct ManifestApplyTests {
    static let root = ThreeReplicasTests.root

    /// Runs the CLI; returns its exit status and output.
    static func cli(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outcome = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ChildProcess.Outcome, any Error>) in
            Thread { continuation.resume(with: Result { try ChildProcess.run(ThreeReplicasTests.binary, arguments) }) }.start()
        }
        return (outcome.status, outcome.output)
    }

    @Test("the GitOps example applies, then applies again changing nothing; edits become phases; bad files name file, line and field")
    func applyTwice() async throws {
        _ = try await TestStores.stores()
        let databaseURL = try await TestStores.privateDatabaseURL("apply")
        let admin = "apply-admin-\(UUID().uuidString.prefix(8))"
        let fixture = PredictionTests.fixture
        let replicas = try await ThreeReplicasTests.start(count: 1, databaseURL: databaseURL, redisURL: TestStores.redisURL + "/6",
                                                          arguments: ["--plugin-dir", fixture.folder], environment: ["SWITCHBOARD_ADMIN_KEYS": admin, "SWITCHBOARD_CLIENT_KEYS": "apply-client"])
        defer { ThreeReplicasTests.stop(replicas) }
        let service = ["--server", replicas[0].base, "--key", admin]
        func experiment(_ key: String) async throws -> [String: Any] {
            let r = try await ThreeReplicasTests.request(replicas[0].base + "/v1/experiments/\(key)", method: "GET", bearer: admin)
            return try #require(try JSONSerialization.jsonObject(with: r.body) as? [String: Any])
        }
        // A copy of the example folder, to edit.
        let folder = NSTemporaryDirectory() + "gitops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: Self.root + "/examples/gitops/experiments", toPath: folder)

        let first = try await Self.cli(["apply", "-f", folder] + service)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.components(separatedBy: ": created").count - 1 == 3, "\(first.output)")
        #expect(try await experiment("search-ranking-v2")["status"] as? String == "draft")
        let second = try await Self.cli(["apply", "-f", folder] + service)
        #expect(second.status == 0 && second.output.contains("nothing to change"), "\(second.output)")
        #expect(try await Self.cli(["diff", "-f", folder] + service).status == 0)

        // An edit: a weight, an arm left out (retired), a status. diff shows it and exits 1; apply makes a phase.
        let checkout = folder + "/checkout.yaml"
        var text = try String(contentsOfFile: checkout, encoding: .utf8)
        text = text.replacingOccurrences(of: ##"- {name: green, value: "#2da44e"}"##, with: ##"- {name: green, value: "#2da44e", weight: 3}"##)
        text = text.replacingOccurrences(of: "  - {name: urgent, value: \"Only a few left: order now\"}\n", with: "  - {name: soft, value: \"Ready when you are\"}\n")
        try text.write(toFile: checkout, atomically: true, encoding: .utf8)
        let diff = try await Self.cli(["diff", "-f", folder] + service)
        #expect(diff.status == 1 && diff.output.contains("arms[green].weight: 1.0 → 3.0") && diff.output.contains("arms[urgent].retired: false → true"),
                "\(diff.output)")
        let dryRun = try await Self.cli(["apply", "--dry-run", "-f", folder] + service)
        #expect(dryRun.status == 0 && dryRun.output.contains("(dry run)"))
        #expect(try await experiment("checkout-button-color")["phase"] as? Int == 1)
        let edited = try await Self.cli(["apply", "-f", folder] + service)
        #expect(edited.status == 0, "\(edited.output)")
        #expect(try await experiment("checkout-button-color")["phase"] as? Int == 2)
        let copy = try await experiment("checkout-copy")
        let arms = copy["arms"] as? [[String: Any]] ?? []
        #expect(arms.map { $0["name"] as? String } == ["calm", "urgent", "soft"])
        #expect(arms.first { $0["name"] as? String == "urgent" }?["retired"] as? Bool == true)
        #expect(try await Self.cli(["apply", "-f", folder] + service).output.contains("nothing to change"))

        // get -o yaml round-trips: applying its output changes nothing.
        let got = try await Self.cli(["get", "-o", "yaml"] + service)
        #expect(got.status == 0 && got.output.contains("key: checkout-copy"), "\(got.output)")
        let exported = folder + "-exported.yaml"
        try got.output.write(toFile: exported, atomically: true, encoding: .utf8)
        let roundTrip = try await Self.cli(["apply", "-f", exported] + service)
        #expect(roundTrip.status == 0 && roundTrip.output.contains("nothing to change"), "\(roundTrip.output)")

        // What cannot change is refused, naming the file, line and field; nothing is recreated.
        try text.replacingOccurrences(of: "control: blue", with: "control: green").write(toFile: checkout, atomically: true, encoding: .utf8)
        let refused = try await Self.cli(["apply", "-f", checkout] + service)
        #expect(refused.status != 0 && refused.output.contains("checkout.yaml:4: experiment checkout-button-color: field 'control' cannot change"),
                "\(refused.output)")
        let bad = folder + "/bad.yaml"
        try "key: broken\narms:\n  - name: a\n  - name: b\n    weight: -1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let invalid = try await Self.cli(["apply", "-f", bad] + service)
        #expect(invalid.status != 0 && invalid.output.contains("bad.yaml:5: field 'arms[1].weight' must be a finite number"), "\(invalid.output)")
        try "key: broken\narms: [\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let unparsable = try await Self.cli(["apply", "-f", bad] + service)
        #expect(unparsable.status != 0 && unparsable.output.contains("bad.yaml:") && unparsable.output.contains("is not valid YAML or JSON"),
                "\(unparsable.output)")
        try FileManager.default.removeItem(atPath: bad)

        // A backend declared as a file is registered through its route; a model experiment can use it.
        let models = folder + "-models.yaml"
        try """
            kind: Backend
            name: iris-from-file
            path: \(fixture.library)
            model: \(fixture.iris)
            ---
            key: iris-from-file
            arms: [{name: linear, backend: iris-from-file}]
            """.write(toFile: models, atomically: true, encoding: .utf8)
        let unknown = try await Self.cli(["diff", "-f", models] + service)
        #expect(unknown.status == 1 && unknown.output.contains("backend iris-from-file: registered (dry run)"), "\(unknown.output)")
        let registered = try await Self.cli(["apply", "-f", models] + service)
        #expect(registered.status == 0 && registered.output.contains("backend iris-from-file: registered")
                && registered.output.contains("experiment iris-from-file: created"), "\(registered.output)")
        let listed = try await ThreeReplicasTests.request(replicas[0].base + "/v1/backends", method: "GET", bearer: admin)
        #expect(String(decoding: listed.body, as: UTF8.self).contains("\"iris-from-file\""))
        // Applied again: the backend is known, so nothing changes, and diff agrees.
        let reapplied = try await Self.cli(["apply", "-f", models] + service)
        #expect(reapplied.status == 0 && reapplied.output.contains("backend iris-from-file: unchanged")
                && reapplied.output.contains("nothing to change"), "\(reapplied.output)")
        #expect(try await Self.cli(["diff", "-f", models] + service).status == 0)

        // --prune archives what no file declares.
        try text.write(toFile: checkout, atomically: true, encoding: .utf8)
        let extra = try await ThreeReplicasTests.request(replicas[0].base + "/v1/experiments", method: "POST",
                                                         json: #"{"key": "undeclared", "arms": [{"name": "a"}]}"#, bearer: admin)
        #expect(extra.status == 201)
        let pruned = try await Self.cli(["apply", "--prune", "-f", folder] + service)
        #expect(pruned.status == 0 && pruned.output.contains("experiment undeclared: archived")
                && pruned.output.contains("experiment iris-from-file: archived"), "\(pruned.output)")
        #expect(try await experiment("undeclared")["status"] as? String == "archived")
    }
}
