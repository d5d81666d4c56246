import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing

typealias RegisterResponse = PoliciesController<BasicRequestContext>.RegisterResponse

@Suite("Registering policy plugins on a running service")
struct PolicyRegistrationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL.path

    /// A plugin folder with the C example built into it, and a registry that allows it.
    static func setUp() throws -> (folder: String, library: String, registry: PolicyRegistry) {
        let folder = NSTemporaryDirectory() + "switchboard-registration-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let library = folder + "/libchampion_challenger.so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        // A unique build id gives each test its own file content (and SHA-256).
        let buildID = "0x" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        cc.arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-O1", "-Wl,--build-id=\(buildID)", "-I", root + "/Sources/SwitchboardABI/include",
                        "-o", library, root + "/policies/examples/champion_challenger.c", "-lcjson", "-lm"]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0)
        let registry = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: folder + "/cache", logger: TestStores.logger)
        try registry.loadTrusted(path: PolicyBootstrap.builtInLibraryPath())
        return (folder, library, registry)
    }

    @Test("POST /v1/policies registers the C example; an experiment then runs on it; a repeat is a 200")
    func registerAndUse() async throws {
        let (_, library, registry) = try Self.setUp()
        try await withApp(policies: registry) { client in
            let response = try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)"}"#)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let registered = try response.decode(RegisterResponse.self)
            #expect(registered.policies.map(\.name) == ["champion-challenger"])
            #expect(registered.policies[0].capabilities == ["thread_safe"])

            let again = try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)", "sha256": "\#(registered.sha256)"}"#)
            #expect(again.status == .ok)

            let key = TestStores.uniqueKey("champion")
            let created = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
                 "policy": {"name": "champion-challenger", "config": {"challenger_share": 0.2, "min_samples": 1}}}
                """)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).decode(AssignResponse.self)
            #expect([0.8, 0.1].contains(a.propensity))
            #expect(try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#).status == .ok)

            let bad = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(TestStores.uniqueKey("bad"))", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "champion-challenger", "config": {"share": 1}}}
                """)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.problem().detail == "policy champion-challenger@1 refused its config: unknown config key; allowed: challenger_share, min_samples")
        }
        let rows = try await TestStores.query("SELECT path, policies::text FROM switchboard.policy_libraries WHERE path = $1", [library])
        #expect(rows == [[library, "{champion-challenger@1}"]])
    }

    @Test("a restarted replica loads the libraries registered before")
    func reloadAtStart() async throws {
        let (folder, library, first) = try Self.setUp()
        let status = try await withApp(policies: first) { client in
            try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)"}"#).status
        }
        #expect(status == .created)
        let fresh = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: folder + "/cache2", logger: TestStores.logger)
        try await PolicyBootstrap.load(into: fresh, libraries: try await TestStores.stores().libraries, logger: TestStores.logger)
        #expect(fresh.policy(name: "champion-challenger") != nil)
    }

    @Test("refusals: outside the plugin folders, a wrong digest, a malformed digest")
    func refusals() async throws {
        let (_, library, registry) = try Self.setUp()
        try await withApp(policies: registry) { client in
            let outside = try await client.send(.post, "/v1/policies", json: #"{"path": "/etc/passwd"}"#)
            #expect(outside.status == .unprocessableContent)
            #expect(try outside.problem().detail.contains("plugin file '/etc/passwd' is outside the plugin folders"))
            let digest = String(repeating: "a", count: 64)
            let wrong = try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)", "sha256": "\#(digest)"}"#)
            #expect(try wrong.problem().detail.contains("not the expected \(digest)"))
            let malformed = try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)", "sha256": "xyz"}"#)
            #expect(try malformed.problem().detail == "field 'sha256' must be 64 hexadecimal digits")
        }
    }
}
