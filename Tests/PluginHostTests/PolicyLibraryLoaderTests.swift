import Foundation
import Logging
@testable import PluginHost
import Testing

@Suite("Loading policy plugins")
struct PolicyLibraryLoaderTests {
    static let logger = Logger(label: "plugin-host-tests")

    func registry(_ folder: String) throws -> PolicyRegistry {
        PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: try TestPlugins.folder("cache"), logger: Self.logger)
    }

    @Test("the built-in library loads with all its policies, and the C example loads from a plugin folder")
    func loads() throws {
        let folder = try TestPlugins.folder("plugins")
        let registry = try registry(folder)
        let builtIn = try registry.loadTrusted(path: TestPlugins.builtInLibrary)
        #expect(builtIn.policies.count == 11)
        #expect(registry.policy(name: "thompson")?.capabilities == [.threadSafe, .costlyProbabilities])
        let example = try TestPlugins.compile("policies/examples/champion_challenger.c", into: folder, as: "libchampion_challenger.so", libraries: ["cjson"])
        let library = try registry.register(path: example)
        #expect(library.policies.map(\.id) == ["champion-challenger@1"])
        #expect(library.sha256.count == 64)
        #expect(registry.policies.count == 12)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var defines: [String]
        var message: String
        var testDescription: String { defines.joined(separator: " ") }
    }

    static let refusals: [Refusal] = [
        Refusal(defines: ["NO_ENTRY"], message: "does not export switchboard_policy_library_v2; is it a Switchboard policy plugin?"),
        Refusal(defines: ["WRONG_MAJOR"], message: "is built for policy ABI major version 1 (it exports switchboard_policy_library_v1); this host speaks version 2"),
        Refusal(defines: ["MINOR_TOO_NEW"], message: "the library needs policy ABI minor version 99, newer than this host's 0; upgrade Switchboard"),
        Refusal(defines: ["SMALL_STRUCT"], message: "sb_policy_library declares struct_size 8, smaller than the 32 bytes this host's ABI requires"),
        Refusal(defines: ["CAP_MISMATCH"], message: "policy 'fixture-uniform' declares the ensemble capability but lacks choose_set or combine"),
        Refusal(defines: ["FOREIGN_TAG"], message: "was built by swift-0.1-x86_64-linux but this host is swift-"),
        Refusal(defines: ["BAD_NAME"], message: "declares the invalid policy name 'Bad Name'"),
    ]

    @Test("a broken plugin is refused with a precise error", arguments: refusals)
    func refused(_ case_: Refusal) throws {
        let folder = try TestPlugins.folder("broken")
        let path = try TestPlugins.fixture(case_.defines, in: folder)
        #expect { try registry(folder).register(path: path) } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains(case_.message) ? true : { Issue.record("got: \(text)"); return false }()
        }
    }

    @Test("a file that is not a shared library is refused")
    func notALibrary() throws {
        let folder = try TestPlugins.folder("text")
        let path = folder + "/libtext.so"
        try "just text".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try registry(folder).register(path: path) } throws: { "\($0)".contains("is not a loadable shared library") }
    }

    @Test("paths outside the plugin folders are refused before anything is opened")
    func outsideFolder() throws {
        let inside = try TestPlugins.folder("inside")
        let outside = try TestPlugins.folder("outside")
        let path = try TestPlugins.fixture(["METRICS"], in: outside)
        #expect { try registry(inside).register(path: path) } throws: { "\($0)".contains("is outside the plugin folders") }
        #expect { try registry(inside).register(path: inside + "/../" + URL(fileURLWithPath: outside).lastPathComponent + "/libmetrics.so") } throws: {
            "\($0)".contains("is outside the plugin folders")
        }
    }

    @Test("an expected SHA-256 that does not match refuses the file")
    func digestMismatch() throws {
        let folder = try TestPlugins.folder("digest")
        let path = try TestPlugins.fixture(["METRICS"], in: folder)
        #expect { try registry(folder).register(path: path, expectedSHA256: String(repeating: "0", count: 64)) } throws: {
            "\($0)".contains("not the expected 0000000000000000000000000000000000000000000000000000000000000000")
        }
    }

    @Test("the same name@version from another file is refused; the same file again is accepted once")
    func duplicates() throws {
        let folder = try TestPlugins.folder("dup")
        let registry = try registry(folder)
        let first = try TestPlugins.fixture(["METRICS"], in: folder, as: "libfirst.so")
        let second = try TestPlugins.fixture(["METRICS", "MARKER=2"], in: folder, as: "libsecond.so")
        let loaded = try registry.register(path: first)
        #expect(try registry.register(path: first).sha256 == loaded.sha256)
        #expect { try registry.register(path: second) } throws: { "\($0)".contains("policy fixture-uniform@1 is already registered (from '\(first)')") }
    }

    @Test("a new version replacing the same file loads side by side from a content-addressed copy")
    func sideBySide() throws {
        let folder = try TestPlugins.folder("versions")
        let cache = try TestPlugins.folder("cas")
        let registry = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: cache, logger: Self.logger)
        let path = try TestPlugins.fixture(["METRICS", "VERSION=\"1\""], in: folder, as: "libversioned.so")
        let v1 = try registry.register(path: path)
        try TestPlugins.fixture(["METRICS", "VERSION=\"2\""], in: folder, as: "libversioned.so")  // same path, new content
        let v2 = try registry.register(path: path)
        #expect(v1.sha256 != v2.sha256)
        #expect(registry.policy(name: "fixture-uniform", version: "1") != nil)
        #expect(registry.policy(name: "fixture-uniform", version: "2") != nil)
        #expect(registry.policy(name: "fixture-uniform")?.version == "2")
        let copies = try FileManager.default.contentsOfDirectory(atPath: cache).sorted()
        #expect(copies == ["libversioned-\(v1.sha256.prefix(16)).so", "libversioned-\(v2.sha256.prefix(16)).so"].sorted())
        // Both versions really run their own code.
        let config = PolicyConfiguration(armNames: ["a", "b"], armWeights: [1, 1])
        for version in ["1", "2"] {
            let policy = try #require(registry.policy(name: "fixture-uniform", version: version)).configure(config)
            #expect(try policy.choose(state: [], context: [], unitHash: 0, seed: 3, time: 0, probabilities: true).arm == 1)
        }
    }

    @Test("plugins report custom metrics and log through the host services")
    func hostServices() throws {
        let folder = try TestPlugins.folder("metrics")
        let registry = try registry(folder)
        let path = try TestPlugins.fixture(["METRICS"], in: folder)
        let plugin = try #require(try registry.register(path: path).policies.first)
        let policy = try plugin.configure(PolicyConfiguration(armNames: ["a", "b", "c"], armWeights: [1, 1, 1]))
        for seed in 0..<5 { _ = try policy.choose(state: [], context: [], unitHash: 0, seed: UInt64(seed), time: 0, probabilities: false) }
        #expect(registry.services.pluginCounters()["fixture_choices"] == 5)
    }

    @Test("a plugin's config error reaches the caller as the plugin's own message")
    func configErrors() throws {
        let registry = try registry(try TestPlugins.folder("cfg"))
        try registry.loadTrusted(path: TestPlugins.builtInLibrary)
        let thompson = try #require(registry.policy(name: "thompson"))
        #expect(throws: PluginReportedError(code: 1, message: "unknown config key 'alpha'; allowed: prior_alpha, prior_beta, samples")) {
            try thompson.configure(PolicyConfiguration(armNames: ["a", "b"], armWeights: [1, 1], configJSON: #"{"alpha": 2}"#))
        }
        let linucb = try #require(registry.policy(name: "linucb"))
        #expect(throws: PluginReportedError(code: 1, message: "policy linucb@1 is contextual: the experiment must declare context_features")) {
            try linucb.configure(PolicyConfiguration(armNames: ["a", "b"], armWeights: [1, 1]))
        }
    }
}
