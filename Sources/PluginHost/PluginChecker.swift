import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a plugin library's conformance check in a child process (`switchboard plugin
/// run-checks`) before the library is loaded into the server: its initialisers and every
/// function run there first, so a library that crashes or hangs takes down only the child.
public struct PluginChecker: Sendable {
    /// What is checked.
    public enum Kind: Sendable {
        /// A policy library: every policy it declares.
        case policy
        /// A model backend library, with the model folder and config it is registered with.
        case backend(model: String, config: String)
    }

    /// Why a library failed its check: one line for a problem response.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The `switchboard` executable that runs the check.
    public let executable: String
    /// A check still running after this is killed, and the library refused.
    public let timeout: Duration

    public init(executable: String, timeout: Duration = .seconds(30)) {
        self.executable = executable
        self.timeout = timeout
    }

    /// The checker of the running `switchboard` executable.
    public static func ofThisExecutable(timeout: Duration = .seconds(30)) -> PluginChecker {
        PluginChecker(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, timeout: timeout)
    }

    /// Checks the library at `path`, whose content must have `sha256` (the bytes the server
    /// will load); throws a failure that says what happened.
    public func check(path: String, sha256: String, kind: Kind) async throws(Failure) {
        var arguments = ["plugin", "run-checks", path, "--sha256", sha256, "--rounds", "200"]
        if case .backend(let model, let config) = kind { arguments += ["--backend-model", model, "--config", config] }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = arguments
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        child.standardInput = FileHandle.nullDevice
        // Only what a check needs: no API keys, no store URLs. A crash is reported below in one line.
        child.environment = ProcessInfo.processInfo.environment.filter { ["PATH", "LANG", "TZ"].contains($0.key) || $0.key.hasPrefix("LC_") }
            .merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        do { try child.run() } catch {
            throw Failure(message: "the conformance check could not start (\(executable)): \(error.localizedDescription)")
        }
        let reader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + timeout
        while child.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let hung = child.isRunning
        if hung { kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
        let lines = String(decoding: await reader.value, as: UTF8.self).split(separator: "\n").map(String.init)
        let running = lines.last.map { " while: \($0.prefix(200))" } ?? ""
        if hung {
            throw Failure(message: "plugin '\(path)' did not finish its conformance check within \(timeout) (it hangs)\(running); it was not loaded")
        }
        if child.terminationReason == .uncaughtSignal {
            let signal = child.terminationStatus
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            throw Failure(message: "plugin '\(path)' crashed during its conformance check (\(name), signal \(signal))\(running); it was not loaded")
        }
        guard child.terminationStatus == 0 else {
            let failures = lines.filter { $0.hasPrefix("FAIL") }.prefix(3).joined(separator: "; ")
            throw Failure(message: "plugin '\(path)' failed its conformance check: \(failures.isEmpty ? lines.last ?? "no output" : failures)")
        }
    }
}
