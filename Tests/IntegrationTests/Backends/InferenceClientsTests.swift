@testable import ExperimentService
import Foundation
import Testing

/// The Open Inference Protocol's own clients against a live `switchboard serve` with API
/// keys: Triton's `tritonclient[http]` and KServe's `InferenceRESTClient`, from PyPI in
/// the test suite's Python environment (`scripts/python-env`), run by
/// `Tests/Clients/inference_clients.py`.
@Suite("Open Inference Protocol clients from PyPI against a live service")
struct InferenceClientsTests {
    static let root = ThreeReplicasTests.root

    @Test("tritonclient[http] and KServe's REST client: health, metadata, JSON and binary tensors both ways, versions, errors; every decision stored")
    func clients() async throws {
        let python = try await ResultsPageBrowserTests.run("/bin/sh", ["-c", "\(Self.root)/scripts/python-env"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await TestStores.stores()  // migrated
        let fixture = PredictionTests.fixture
        let admin = "oip-admin-\(UUID().uuidString.prefix(8))", client = "oip-client-\(UUID().uuidString.prefix(8))"
        let replicas = try await ThreeReplicasTests.start(count: 1, arguments: ["--plugin-dir", fixture.folder],
                                                          environment: ["SWITCHBOARD_ADMIN_KEYS": admin, "SWITCHBOARD_CLIENT_KEYS": client])
        defer { ThreeReplicasTests.stop(replicas) }
        let base = replicas[0].base
        let model = TestStores.uniqueKey("iris")
        let registered = try await ThreeReplicasTests.request(base + "/v1/backends", method: "POST",
                                                              json: #"{"name": "\#(model)", "path": "\#(fixture.library)", "model": "\#(fixture.iris)"}"#, bearer: admin)
        try #require(registered.status == 201, "\(String(decoding: registered.body, as: UTF8.self))")
        let key = TestStores.uniqueKey("clients")
        let created = try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST",
                                                           json: #"{"key": "\#(key)", "arms": [{"name": "linear", "backend": "\#(model)"}], "context_features": ["hour"]}"#,
                                                           bearer: admin)
        try #require(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")

        let output = NSTemporaryDirectory() + "inference-clients-\(key).json"
        _ = try await ResultsPageBrowserTests.run(python, [Self.root + "/Tests/Clients/inference_clients.py", "--base", base, "--model", key,
                                                           "--weights", fixture.iris + "/model.json", "--api-key", client, "--output", output])
        struct Made: Decodable { var client: String; var unit: String; var decision_id: String }
        struct Output: Decodable { var decisions: [Made] }
        let made = try JSONDecoder().decode(Output.self, from: Data(contentsOf: URL(fileURLWithPath: output))).decisions
        #expect(made.map(\.client) == ["triton", "triton", "kserve", "kserve"])
        for m in made {
            let stored = try await TestStores.query("SELECT unit, experiment, context::text FROM switchboard.decisions WHERE id = $1::uuid",
                                                    [m.decision_id])
            #expect(stored == [[m.unit, key, #"{"hour": 9}"#]], "\(m.client) \(m.unit): \(stored)")
        }
        // Only the successful inferences left decisions (the errors left none).
        let count = try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [key])
        #expect(count.first?[0] == "\(made.count)")
    }
}
