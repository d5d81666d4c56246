import ArgumentParser
import ExperimentService
import Foundation
import Logging
import PluginHost
#if canImport(Glibc)
import Glibc
#endif

/// `switchboard plugin check FILE.so`: conformance checks of a policy library.
struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Work with policy plugins.",
        subcommands: [Check.self, RunChecks.self]
    )

    /// Runs the checks in a child process, so a plugin that crashes cannot harm the caller.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a policy library follows the ABI (runs it in a child process; exits non-zero on any failure or crash).")

        @Argument(help: "The shared library (.so) to check.")
        var file: String

        @Option(help: "The JSON config to configure each policy with.")
        var config: String = "{}"

        @Option(help: "How many randomized decisions per policy.")
        var rounds: Int = 400

        func run() throws {
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["plugin", "run-checks", file, "--config", config, "--rounds", String(rounds)]
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.standardError
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"  // a plugin crash is reported in one line below
            child.environment = environment
            try child.run()
            var lastLine = ""
            for line in String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") {
                print(line)
                lastLine = String(line)
            }
            child.waitUntilExit()
            if child.terminationReason == .uncaughtSignal {
                let signal = child.terminationStatus
                let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
                print("FAIL \(file): the plugin crashed (\(name), signal \(signal))\(lastLine.isEmpty ? "" : " after: \(lastLine)")")
                throw ExitCode(1)
            }
            if child.terminationStatus != 0 { throw ExitCode(child.terminationStatus) }
        }
    }

    /// The child side: loads the library in this process and runs every check (what
    /// `plugin check` and the server's registrations run in a child process).
    struct RunChecks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-checks", abstract: "Run the checks in this process (used by 'plugin check' and registrations).", shouldDisplay: false)

        @Argument var file: String
        @Option var config: String = "{}"
        @Option var rounds: Int = 400
        /// The content the library must have (the bytes the server will load).
        @Option var sha256: String?
        /// Check a model backend library with this model folder instead of a policy library.
        @Option var backendModel: String?

        func run() async throws {
            PluginCrashGuard.exitWithParent()
            var logger = Logger(label: "switchboard-plugin-check")
            logger.logLevel = .warning
            if let backendModel {
                try await checkBackend(model: backendModel, logger: logger)
                return
            }
            let loader = PolicyLibraryLoader(services: PluginHostServices(logger: logger), cacheFolder: nil)
            let library: LoadedPolicyLibrary
            do {
                library = try loader.load(path: file, expectedSHA256: sha256)
            } catch {
                print("FAIL \(file): \(error)")
                throw ExitCode(1)
            }
            print("PASS \(file): loads (policy ABI \(PluginABIVersion.policy), sha256 \(library.sha256.prefix(16))…, \(library.policies.count) policies)")
            fflush(nil)
            var conformance = PolicyConformance()
            conformance.rounds = rounds
            var failed = 0
            for policy in library.policies {
                conformance.run(policy, configJSON: config) { result in
                    print(result)
                    fflush(nil)  // the parent must see each result before a crash
                    if !result.passed { failed += 1 }
                }
            }
            print(failed == 0 ? "OK: every check passed" : "FAILED: \(failed) checks failed")
            if failed > 0 { throw ExitCode(1) }
        }

        func checkBackend(model: String, logger: Logger) async throws {
            let plugins: [BackendPlugin]
            do {
                plugins = try BackendLibraryLoader(services: PluginHostServices(logger: logger)).load(path: file, expectedSHA256: sha256)
            } catch {
                print("FAIL \(file): \(error)")
                throw ExitCode(1)
            }
            print("PASS \(file): loads (backend ABI \(PluginABIVersion.backend), \(plugins.count) backends)")
            fflush(nil)
            var failed = 0
            await BackendConformance().run(plugins, model: model, config: config) { result in
                print(result)
                fflush(nil)
                if !result.passed { failed += 1 }
            }
            print(failed == 0 ? "OK: every check passed" : "FAILED: \(failed) checks failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
