import Foundation
import PluginHost
#if canImport(Glibc)
import Glibc
#endif

/// Runs helper programs (initdb, pg_ctl, redis-server) to completion.
enum ChildProcess {
    /// The result of a finished program.
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs `executable` with `arguments`, optionally as another user (through `setpriv`,
    /// which replaces itself with the program, so signals and exit codes are the program's),
    /// and returns its exit status and combined output. The working directory is `/` (through `env -C`), so a
    /// user without access to ours is not bothered. `posix_spawn` and `waitpid` are used
    /// directly: only the program gets our pipe (it is close-on-exec everywhere else), so a
    /// daemon it leaves behind, like the postmaster of `pg_ctl start`, cannot keep us reading.
    static func run(_ executable: String, _ arguments: [String], asUser user: String? = nil) throws -> Outcome {
        let setpriv = user.map { ["/usr/bin/setpriv", "--reuid", $0, "--regid", $0, "--init-groups"] } ?? []
        let argv = ["/usr/bin/env", "-C", "/"] + setpriv + [executable]
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw EmbeddedStoreError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = HelperProcess.spawn(argv + arguments, environment: HelperProcess.environment(), stdout: fds[1], stderr: fds[1])
        close(fds[1])
        defer { close(fds[0]) }
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let error): throw EmbeddedStoreError("cannot run \(argv[0]): \(String(cString: strerror(error.code.rawValue)))")
        }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { output += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        var wstatus: Int32 = 0
        while waitpid(pid, &wstatus, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (wstatus & 0x7f) == 0 ? (wstatus >> 8) & 0xff : 128 + (wstatus & 0x7f)
        return Outcome(status: exitCode, output: String(decoding: output, as: UTF8.self))
    }

    /// The last `count` non-empty lines of `text`, joined with " | " to stay on one line.
    static func tail(_ text: String, lines count: Int = 3) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.suffix(count).joined(separator: " | ")
    }

    /// The last lines of a log file, or "" if it cannot be read.
    static func tail(ofFile path: String, lines count: Int = 3) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)).map { tail($0, lines: count) } ?? ""
    }
}
