import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private Redis server (Debian's `redis-server`) on 127.0.0.1, with no persistence:
/// Redis is only a cache here, and PostgreSQL is the record. It takes clients with its
/// generated password only (`requirepass`, set in an owner-only config file, not on the
/// command line where `ps` would show it).
struct EmbeddedRedis {
    let folder: String
    let port: Int
    let password: String
    let executable: String

    /// The URL clients connect with (it holds the password).
    var url: String { "redis://:\(password)@127.0.0.1:\(port)" }
    private var pidFile: String { folder + "/redis.pid" }
    private var logFile: String { folder + "/redis.log" }
    private var configFile: String { folder + "/redis.conf" }

    init(folder: String, port: Int, password: String) throws {
        self.folder = folder
        self.port = port
        self.password = password
        self.executable = try Self.findExecutable()
    }

    /// Starts the server as a daemon (its own session, so a terminal's Ctrl-C reaches only
    /// us and we stop it in order) and waits until it answers PING. Blocking.
    func start() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o700)
        if let pid = runningPID() {
            // We hold the data-folder lock: this server was left behind by an earlier run that died.
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try StoreSecrets.writeOwnerOnly(configFile, "requirepass \(password)\n")
        let r = try ChildProcess.run(executable, [
            configFile, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", folder, "--daemonize", "yes", "--pidfile", pidFile, "--logfile", logFile,
        ])
        guard r.status == 0 else { throw EmbeddedStoreError("redis-server failed to start: \(ChildProcess.tail(r.output))") }
        let connection = RedisConnection(endpoint: try RedisConnection.Endpoint(url: url))
        defer { connection.close() }
        let deadline = Date().addingTimeInterval(15)
        while true {
            if (try? connection.command(["PING"])) == .status("PONG") { return }
            guard Date() < deadline else {
                throw EmbeddedStoreError("Redis did not answer on 127.0.0.1:\(port) within 15 s: \(ChildProcess.tail(ofFile: logFile)) (log: \(logFile))")
            }
            usleep(20_000)
        }
    }

    /// Stops the server and waits for it to exit. Blocking.
    func stop() {
        guard let pid = runningPID() else { return }
        kill(pid, SIGTERM)
        waitForExit(pid)
    }

    /// The PID in the pid file, if that process is alive and is a Redis server.
    private func runningPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0,
              let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), comm.hasPrefix("redis")
        else { return nil }
        return pid
    }

    private func waitForExit(_ pid: pid_t, seconds: Double = 15) {
        let deadline = Date().addingTimeInterval(seconds)
        while kill(pid, 0) == 0, Date() < deadline { usleep(20_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    static func findExecutable(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        fallbacks: [Substring] = ["/usr/bin", "/usr/local/bin"]
    ) throws -> String {
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + fallbacks {
            let candidate = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw EmbeddedStoreError("redis-server was not found on PATH; install it (apt-get install redis-server) or set REDIS_URL to an existing server")
    }
}
