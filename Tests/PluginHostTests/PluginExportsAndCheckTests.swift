import Foundation
import Testing

@Suite("Plugin exports and `switchboard plugin check`")
struct PluginExportsAndCheckTests {
    /// The global symbols a shared library defines for the dynamic linker.
    func exportedSymbols(_ path: String) throws -> [String] {
        let nm = try TestPlugins.run("/usr/bin/nm", ["-D", "--defined-only", path])
        try #require(nm.status == 0, "nm failed: \(nm.output)")
        return nm.output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[1].first?.isUppercase == true else { return nil }  // uppercase type = global
            return String(parts[2])
        }
    }

    @Test("the C example and the built-in Swift library export only their entry symbol")
    func onlyEntrySymbol() throws {
        let folder = try TestPlugins.folder("nm")
        let example = try TestPlugins.compile("policies/examples/champion_challenger.c", into: folder, as: "libchampion_challenger.so", libraries: ["cjson"])
        #expect(try exportedSymbols(example) == ["switchboard_policy_library_v2"])
        #expect(try exportedSymbols(TestPlugins.builtInLibrary) == ["switchboard_policy_library_v2"])
    }

    @Test("every built-in policy and the C example pass the conformance check")
    func conformingPluginsPass() throws {
        let folder = try TestPlugins.folder("check")
        let example = try TestPlugins.compile("policies/examples/champion_challenger.c", into: folder, as: "libchampion_challenger.so", libraries: ["cjson"])
        for library in [TestPlugins.builtInLibrary, example] {
            let result = try TestPlugins.run(TestPlugins.switchboard, ["plugin", "check", library])
            #expect(result.status == 0, "\(result.output)")
            #expect(!result.output.contains("FAIL"))
            #expect(result.output.contains("OK: every check passed"))
        }
        let builtIn = try TestPlugins.run(TestPlugins.switchboard, ["plugin", "check", TestPlugins.builtInLibrary]).output
        for name in ["uniform", "weighted-split", "epsilon-greedy", "ucb1", "thompson", "thompson-gaussian", "softmax", "exp3",
                     "discounted-thompson", "linucb", "ensemble"] {
            #expect(builtIn.contains("PASS \(name)@1: 400 decisions"), "\(name) was not checked")
        }
    }

    @Test("a plugin with wrong probabilities fails the check with a reason")
    func faultyPluginFails() throws {
        let folder = try TestPlugins.folder("faulty")
        let path = try TestPlugins.fixture(["BAD_PROBS"], in: folder)
        let result = try TestPlugins.run(TestPlugins.switchboard, ["plugin", "check", path])
        #expect(result.status != 0)
        #expect(result.output.contains("FAIL fixture-uniform@1: 400 decisions"))
        #expect(result.output.contains("returned probabilities summing to 0.49999999999999994, not 1"))
    }

    @Test("a plugin that crashes is reported, and the checking process survives it")
    func crashingPluginFails() throws {
        let folder = try TestPlugins.folder("crash")
        let path = try TestPlugins.fixture(["CRASH"], in: folder)
        let result = try TestPlugins.run(TestPlugins.switchboard, ["plugin", "check", path])
        #expect(!result.signaled, "the parent process must not crash")
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL \(path): the plugin crashed (Segmentation fault, signal 11)"))
    }

    @Test("a library that cannot load fails the check with the loader's reason")
    func unloadableFails() throws {
        let folder = try TestPlugins.folder("unloadable")
        let path = try TestPlugins.fixture(["WRONG_MAJOR"], in: folder)
        let result = try TestPlugins.run(TestPlugins.switchboard, ["plugin", "check", path])
        #expect(result.status == 1)
        #expect(result.output.contains("is built for policy ABI major version 1"))
    }
}
