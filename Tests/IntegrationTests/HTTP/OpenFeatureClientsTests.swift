@testable import ExperimentService
import Foundation
import Testing

/// OpenFeature's Python SDK with the OFREP provider from PyPI (and Switchboard's tracking
/// extension of it, `clients/openfeature/`) against a live `switchboard serve` with API
/// keys, run by `Tests/Clients/openfeature_clients.py`.
@Suite("OpenFeature SDK and OFREP provider from PyPI against a live service")
struct OpenFeatureClientsTests {
    static let root = ThreeReplicasTests.root

    @Test("typed flags for 40 units through the SDK: values, variants, stickiness, error codes; every evaluation a decision, every track() a reward")
    func sdk() async throws {
        let python = try await ResultsPageBrowserTests.run("/bin/sh", ["-c", "\(Self.root)/scripts/python-env"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await TestStores.stores()  // migrated
        let admin = "of-admin-\(UUID().uuidString.prefix(8))", client = "of-client-\(UUID().uuidString.prefix(8))"
        let replicas = try await ThreeReplicasTests.start(count: 1, environment: ["SWITCHBOARD_ADMIN_KEYS": admin, "SWITCHBOARD_CLIENT_KEYS": client])
        defer { ThreeReplicasTests.stop(replicas) }
        let base = replicas[0].base
        let color = TestStores.uniqueKey("color"), checkout = TestStores.uniqueKey("checkout")
        let price = TestStores.uniqueKey("price"), layout = TestStores.uniqueKey("layout")
        for body in [
            ##"{"key": "\##(color)", "arms": [{"name": "blue", "value": "#0000ff"}, {"name": "green", "value": "#00ff00"}], "metrics": [{"name": "purchase", "kind": "binary", "primary": true}]}"##,
            #"{"key": "\#(checkout)", "arms": [{"name": "old", "value": false}, {"name": "new", "value": true}]}"#,
            #"{"key": "\#(price)", "arms": [{"name": "base", "value": 1.25}, {"name": "higher", "value": 1.5}], "context_features": ["age"]}"#,
            #"{"key": "\#(layout)", "arms": [{"name": "two", "value": {"columns": 2}}, {"name": "three", "value": {"columns": 3}}], "policy": {"name": "thompson"}}"#,
        ] {
            let created = try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST", json: body, bearer: admin)
            try #require(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        }
        let output = NSTemporaryDirectory() + "openfeature-\(color).json"
        _ = try await ResultsPageBrowserTests.run(python, [Self.root + "/Tests/Clients/openfeature_clients.py", "--base", base, "--api-key", client,
                                                           "--flags", [color, checkout, price, layout].joined(separator: ","), "--output", output])
        struct Evaluation: Decodable { var flag: String; var unit: String; var variant: String; var decision_id: String }
        struct Seen: Decodable { var evaluations: [Evaluation]; var tracked: [String] }
        let seen = try JSONDecoder().decode(Seen.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(seen.evaluations.count == 200 && seen.tracked.count == 20)
        // Every evaluation is a decision of its flag, for its unit and variant.
        let stored = try await TestStores.query("""
            SELECT d.id::text, d.experiment, d.unit, a.name FROM switchboard.decisions d
            JOIN switchboard.arms a ON a.experiment = d.experiment AND a.arm_index = d.arm_index
            WHERE d.experiment = ANY($1::text[])
            """, ["{\(color),\(checkout),\(price),\(layout)}"])
        let byID = Dictionary(uniqueKeysWithValues: stored.map { (($0[0] ?? "").lowercased(), $0) })
        // 200 evaluations, and the type-mismatch case: the server evaluated (and logged) it; the SDK refused its type.
        #expect(stored.count == 201)
        for e in seen.evaluations {
            #expect(byID[e.decision_id.lowercased()].map { [$0[1], $0[2], $0[3]] } == [e.flag, e.unit, e.variant], "\(e)")
        }
        // Each track("purchase") rewarded the unit's latest decision of the flag declaring the metric, once.
        let latest = Dictionary(seen.evaluations.filter { $0.flag == color }.map { ($0.unit, $0.decision_id.lowercased()) }) { _, last in last }
        let rewarded = try await TestStores.query("""
            SELECT r.decision_id::text, r.metric, r.value::text FROM switchboard.rewards r
            JOIN switchboard.decisions d ON d.id = r.decision_id WHERE d.experiment = ANY($1::text[])
            """, ["{\(color),\(checkout),\(price),\(layout)}"])
        #expect(Set(rewarded.map { $0[0] ?? "" }) == Set(seen.tracked.compactMap { latest[$0] }))
        #expect(rewarded.allSatisfy { $0[1] == "purchase" && $0[2] == "1" } && rewarded.count == 20)
    }
}
