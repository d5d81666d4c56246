@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing

/// Plugins run in a child process before they run in the server, and a plugin that
/// crashes the server at run time is switched off at the next start instead of crashing
/// it again.
@Suite("Plugin isolation: checks in a child process, crashed plugins switched off", .serialized)
struct PluginIsolationTests {
    static let root = PolicyRegistrationTests.root

    /// Compiles the fixture plugin with `define` into `folder`.
    static func fixture(_ define: String, in folder: String) throws -> String {
        let path = folder + "/lib\(define.lowercased()).so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-O1", "-I", root + "/Sources/SwitchboardABI/include", "-D" + define,
                        "-o", path, root + "/Tests/Fixtures/plugins/broken_plugin.c"]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0)
        return path
    }

    static func folder() throws -> String {
        let folder = NSTemporaryDirectory() + "switchboard-isolation-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("a library that crashes at load, crashes in its check or hangs is refused with what happened; the server keeps serving")
    func refusedInTheChild() async throws {
        let folder = try Self.folder()
        let crashAtLoad = try Self.fixture("CRASH_AT_LOAD", in: folder)
        let crash = try Self.fixture("CRASH", in: folder)
        let hang = try Self.fixture("HANG", in: folder)
        let checker = PluginChecker(executable: ThreeReplicasTests.binary, timeout: .seconds(2))
        let registry = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: folder + "/cache", checker: checker, logger: TestStores.logger)
        try registry.loadTrusted(path: PolicyBootstrap.builtInLibraryPath())
        try await withApp(policies: registry) { client in
            for (library, expected) in [(crashAtLoad, "crashed during its conformance check (Segmentation fault, signal 11)"),
                                        (crash, "crashed during its conformance check (Segmentation fault, signal 11) while: PASS"),
                                        (hang, "did not finish its conformance check within 2.0 seconds (it hangs)")] {
                let response = try await client.send(.post, "/v1/policies", json: #"{"path": "\#(library)"}"#)
                #expect(response.status == .unprocessableContent)
                #expect(try response.problem().detail.contains(expected), "\(String(buffer: response.body))")
            }
            #expect(registry.policy(name: "fixture-uniform") == nil)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test("a plugin that crashes the server is switched off at the next start: its experiments answer 503 naming it, others serve, re-registering switches it back on")
    func crashedPluginIsSwitchedOff() async throws {
        _ = try await TestStores.stores()
        let plugins = try Self.folder()
        let data = try Self.folder()
        chmod(data, 0o755)
        let library = try Self.fixture("CRASH_ON_3_ARMS", in: plugins)
        let arguments = ["--plugin-dir", plugins]
        var replica = try await ThreeReplicasTests.start(count: 1, arguments: arguments, dataFolder: data)[0]
        let registered = try await ThreeReplicasTests.request(replica.base + "/v1/policies", method: "POST", json: #"{"path": "\#(library)"}"#)
        #expect(registered.status == 201, "\(String(decoding: registered.body, as: UTF8.self))")
        let three = TestStores.uniqueKey("crash3"), two = TestStores.uniqueKey("crash2"), plain = TestStores.uniqueKey("plain")
        for (key, arms, policy) in [(three, #"[{"name": "a"}, {"name": "b"}, {"name": "c"}]"#, #", "policy": {"name": "fixture-uniform"}"#),
                                    (two, #"[{"name": "a"}, {"name": "b"}]"#, #", "policy": {"name": "fixture-uniform"}"#),
                                    (plain, #"[{"name": "a"}, {"name": "b"}]"#, "")] {
            let created = try await ThreeReplicasTests.request(replica.base + "/v1/experiments", method: "POST",
                                                               json: #"{"key": "\#(key)", "arms": \#(arms)\#(policy)}"#)
            #expect(created.status == 201)
        }
        #expect(try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(two)/assign", method: "POST", json: #"{"unit": "u"}"#).status == 200)
        // The plugin crashes the server on a three-arm experiment.
        _ = try? await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(three)/assign", method: "POST", json: #"{"unit": "u"}"#)
        await replica.process.exit(within: .seconds(30))
        #expect(!replica.process.isRunning && replica.process.terminationReason == .uncaughtSignal)
        #expect(FileManager.default.fileExists(atPath: data + "/0/plugin-crash"))

        // The next start leaves the plugin out: the same request no longer brings it down.
        replica = try await ThreeReplicasTests.start(count: 1, arguments: arguments, dataFolder: data)[0]
        defer { ThreeReplicasTests.stop([replica]) }
        for key in [three, two] {
            let refused = try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(key)/assign", method: "POST", json: #"{"unit": "u"}"#)
            #expect(refused.status == 503)
            let problem = try JSONDecoder().decode(Problem.self, from: refused.body)
            #expect(problem.detail.contains("policy fixture-uniform@1 is switched off: its library"))
            #expect(problem.detail.contains("crashed the server (Segmentation fault, signal 11)"))
        }
        #expect(replica.process.isRunning)
        #expect(try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(plain)/assign", method: "POST", json: #"{"unit": "u"}"#).status == 200)
        #expect(try await TestStores.query("SELECT path FROM switchboard.plugin_quarantine WHERE path LIKE $1", [data + "/0/plugin-cache/%"]).count == 1)

        // An admin registers it again: the check runs again, and it is switched back on.
        let again = try await ThreeReplicasTests.request(replica.base + "/v1/policies", method: "POST", json: #"{"path": "\#(library)"}"#)
        #expect(again.status == 201, "\(String(decoding: again.body, as: UTF8.self))")
        #expect(try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(two)/assign", method: "POST", json: #"{"unit": "u"}"#).status == 200)
        #expect(try await TestStores.query("SELECT path FROM switchboard.plugin_quarantine WHERE path LIKE $1", [data + "/0/plugin-cache/%"]).isEmpty)
    }
}
