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
        // posix_spawn and waitpid(WNOHANG), not Foundation's Process: its waitUntilExit spins
        // on the calling thread and was seen to never return once a child had been killed.
        // A crash is reported below in one line; no API keys, no store URLs.
        let environment = HelperProcess.environment().merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Failure(message: "the conformance check could not start: pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let spawned = HelperProcess.spawn([executable] + arguments, environment: environment, stdout: fds[1], stderr: nil)
        close(fds[1])
        defer { close(fds[0]) }
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let error):
            throw Failure(message: "the conformance check could not start (\(executable)): \(String(cString: strerror(error.code.rawValue)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func drain() {
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n > 0 { output += buffer[0..<n] } else { return }
            }
        }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var hung = false
        while true {
            drain()
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid || (done < 0 && errno != EINTR) { break }
            if !hung && (ContinuousClock.now >= deadline || Task.isCancelled) {
                hung = !Task.isCancelled
                kill(pid, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(20))
            if Task.isCancelled { usleep(20_000) }  // cancelled: the sleep above returns at once
        }
        drain()
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        let running = lines.last.map { " while: \($0.prefix(200))" } ?? ""
        if hung {
            throw Failure(message: "plugin '\(path)' did not finish its conformance check within \(timeout) (it hangs)\(running); it was not loaded")
        }
        let signal = status & 0x7f
        if signal != 0 && signal != 0x7f {
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            throw Failure(message: "plugin '\(path)' crashed during its conformance check (\(name), signal \(signal))\(running); it was not loaded")
        }
        guard (status >> 8) & 0xff == 0 else {
            let failures = lines.filter { $0.hasPrefix("FAIL") }.prefix(3).joined(separator: "; ")
            throw Failure(message: "plugin '\(path)' failed its conformance check: \(failures.isEmpty ? lines.last ?? "no output" : failures)")
        }
    }
}
