@testable import ExperimentService
import Foundation
import Testing

/// schemathesis (from PyPI) fuzzes a live `switchboard serve` with API keys from its
/// OpenAPI document: generated requests for every operation, each response checked for
/// server errors and against the document (status, content type, body schema). The
/// service gets a database and a Redis database of its own, so that what the fuzzer
/// creates (experiments, decisions in every flag of a bulk evaluation) touches no other
/// test's rows. `scripts/test` runs it after the other suites, alone (beside them, its load
/// kept `ServerLimitsTests`' idle-timeout check from seeing its connection closed).
@Suite("schemathesis fuzzes the OpenAPI document against a live service")
struct OpenAPIFuzzTests {
    static let root = ThreeReplicasTests.root
    /// The fuzzer's time budget, seconds.
    static let budget = 60

    @Test("no 5xx, every response as documented, within the time budget")
    func fuzz() async throws {
        let python = try await ResultsPageBrowserTests.run("/bin/sh", ["-c", "\(Self.root)/scripts/python-env"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let schemathesis = (python as NSString).deletingLastPathComponent + "/schemathesis"
        _ = try await TestStores.stores()  // the server is up
        let databaseURL = try await TestStores.privateDatabaseURL("fuzz")
        let admin = "fuzz-admin-\(UUID().uuidString.prefix(8))"
        let replicas = try await ThreeReplicasTests.start(count: 1, databaseURL: databaseURL, redisURL: TestStores.redisURL + "/5",
                                                          environment: ["SWITCHBOARD_ADMIN_KEYS": admin, "SWITCHBOARD_CLIENT_KEYS": "fuzz-client"])
        defer { ThreeReplicasTests.stop(replicas) }
        let base = replicas[0].base
        // Something to find: a running flag and a bandit.
        for body in [#"{"key": "demo", "arms": [{"name": "a", "value": true}, {"name": "b", "value": false}]}"#,
                     #"{"key": "bandit", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}"#] {
            let r = try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST", json: body, bearer: admin)
            try #require(r.status == 201)
        }
        let reports = Self.root + "/.build/test-artifacts/schemathesis"
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let output = try await ResultsPageBrowserTests.run(schemathesis, [
            "--no-color", "run", base + "/openapi.json",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            // The coverage phase trips a CPython 3.11 bug in Hypothesis's lambda descriptions
            // (SystemError "AST constructor recursion depth mismatch"), an error of the tool itself.
            "--phases", "examples,fuzzing,stateful",
            "--max-time", String(Self.budget), "--workers", "2", "--request-timeout", "10",
            "--header", "Authorization: Bearer \(admin)",
            "--suppress-health-check", "all",
            "--report", "junit", "--report-dir", reports,
        ])
        print(output.suffix(3_000))
        #expect(output.contains("No issues found") || !output.contains("FAILURES"), "\(output.suffix(4_000))")
        // The service lived through it.
        #expect(try await ThreeReplicasTests.request(base + "/healthz", method: "GET").status == 200)
    }
}
