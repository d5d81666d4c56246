import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL server run from Debian's binaries, with its data in a local folder.
///
/// PostgreSQL refuses to run as root, and these machines run everything as root, so when
/// we are root the server runs as the `postgres` system user (through `setpriv`) and owns
/// its data folder. It listens on 127.0.0.1 only, on the given port, with no Unix socket,
/// and takes only the `switchboard` role with its generated password (SCRAM-SHA-256).
struct EmbeddedPostgres {
    let folder: String
    let logFile: String
    let port: Int
    let password: String
    let binDir: String
    let user: String?

    /// The URL clients connect with (it holds the password).
    var url: String { "postgresql://switchboard:\(password)@127.0.0.1:\(port)/switchboard" }

    /// Prepares to run a server in `folder` (absolute), finding the binaries and the user.
    init(folder: String, logFile: String, port: Int, password: String) throws {
        self.folder = folder
        self.logFile = logFile
        self.port = port
        self.password = password
        self.binDir = try Self.findBinaries()
        self.user = geteuid() == 0 ? "postgres" : nil
        if let user { try Self.checkReachable(folder, by: user) }
    }

    /// Initialises the folder if needed, starts the server, waits for it and creates the
    /// `switchboard` database. Blocking.
    func start() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let user {
            guard let pw = getpwnam(user) else { throw EmbeddedStoreError("the '\(user)' system user does not exist; install Debian's postgresql package") }
            for path in [folder, logFile] {
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid)
            }
        }
        chmod(folder, 0o700)
        chmod(logFile, 0o600)
        let owner = user.flatMap { getpwnam($0) }.map { (uid: $0.pointee.pw_uid, gid: $0.pointee.pw_gid) }
        let fresh = !FileManager.default.fileExists(atPath: folder + "/PG_VERSION")
        if fresh {
            // The password goes in through a file only the server's user can read, never a command line.
            // Beside the data folder: initdb wants that folder empty.
            let passwordFile = URL(fileURLWithPath: folder).deletingLastPathComponent().path + "/initdb-password"
            try StoreSecrets.writeOwnerOnly(passwordFile, password + "\n", owner: owner)
            defer { unlink(passwordFile) }
            let r = try ChildProcess.run(binDir + "/initdb", ["-D", folder, "-U", "switchboard", "--auth=scram-sha-256",
                                                              "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C"], asUser: user)
            guard r.status == 0 else { throw EmbeddedStoreError("initdb failed in \(folder): \(ChildProcess.tail(r.output))") }
        }
        let hba = try String(contentsOfFile: folder + "/pg_hba.conf", encoding: .utf8)
        let trusting = hba.split(separator: "\n").contains { !$0.hasPrefix("#") && $0.split(separator: " ").last == "trust" }
        if try pgCtl(["status", "-D", folder]).status == 0 {
            // We hold the data-folder lock, so this server was left behind by an earlier run that died.
            _ = try pgCtl(["stop", "-D", folder, "-m", "fast", "-w", "-t", "60"])
        }
        // 300 connections: each replica opens its pool (8) and the group commit's writer, and
        // the test suite runs several replicas and in-process services at once (100, the
        // default, ran out).
        let options = "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300"
        let r = try pgCtl(["start", "-D", folder, "-l", logFile, "-w", "-t", "60", "-o", options])
        guard r.status == 0 else {
            throw EmbeddedStoreError("PostgreSQL did not start on 127.0.0.1:\(port): \(ChildProcess.tail(ofFile: logFile)) (log: \(logFile))")
        }
        if trusting {
            // A folder made by an earlier version trusted every local connection: set the
            // password while it still does, then take only SCRAM from now on.
            try setPassword()
            try StoreSecrets.writeOwnerOnly(folder + "/pg_hba.conf", Self.hba, owner: owner)
            guard try pgCtl(["reload", "-D", folder]).status == 0 else { throw EmbeddedStoreError("PostgreSQL did not reload pg_hba.conf") }
        }
        try createDatabase()
    }

    /// Only the `switchboard` role, over TCP from 127.0.0.1, with its password.
    static let hba = "host all switchboard 127.0.0.1/32 scram-sha-256\n"

    private func setPassword() throws {
        let admin = PostgresConnection(url: "postgresql://switchboard@127.0.0.1:\(port)/postgres")
        defer { admin.close() }
        // The password is 64 hex digits we made (StoreSecrets), so it needs no quoting.
        precondition(StoreSecrets.isValid(password))
        try admin.query("ALTER ROLE switchboard PASSWORD '\(password)'")
    }

    /// Stops the server (fast shutdown: running transactions are rolled back). Blocking.
    func stop() throws {
        let r = try pgCtl(["stop", "-D", folder, "-m", "fast", "-w", "-t", "60"])
        guard r.status == 0 else { throw EmbeddedStoreError("PostgreSQL did not stop: \(ChildProcess.tail(r.output))") }
    }

    private func createDatabase() throws {
        let admin = PostgresConnection(url: "postgresql://switchboard:\(password)@127.0.0.1:\(port)/postgres")
        defer { admin.close() }
        if try admin.query("SELECT 1 FROM pg_database WHERE datname = 'switchboard'").count == 0 {
            try admin.query("CREATE DATABASE switchboard")
        }
    }

    private func pgCtl(_ arguments: [String]) throws -> ChildProcess.Outcome {
        try ChildProcess.run(binDir + "/pg_ctl", arguments, asUser: user)
    }

    /// `SWITCHBOARD_PG_BIN`, or the newest `/usr/lib/postgresql/<major>/bin` with major >= 15.
    static func findBinaries(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let fm = FileManager.default
        if let dir = environment["SWITCHBOARD_PG_BIN"] {
            guard fm.isExecutableFile(atPath: dir + "/pg_ctl") else {
                throw EmbeddedStoreError("SWITCHBOARD_PG_BIN=\(dir) has no pg_ctl")
            }
            return dir
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where v >= 15 {
            let dir = "/usr/lib/postgresql/\(v)/bin"
            if fm.isExecutableFile(atPath: dir + "/pg_ctl"), fm.isExecutableFile(atPath: dir + "/initdb") { return dir }
        }
        throw EmbeddedStoreError("PostgreSQL 15+ server binaries were not found in /usr/lib/postgresql/*/bin; install them (apt-get install postgresql) or set DATABASE_URL to an existing server")
    }

    /// PostgreSQL must reach its data folder as `user`: every ancestor must be searchable.
    static func checkReachable(_ folder: String, by user: String) throws {
        guard let pw = getpwnam(user) else {
            throw EmbeddedStoreError("the '\(user)' system user does not exist; install Debian's postgresql package")
        }
        let uid = pw.pointee.pw_uid
        var path = ""
        for component in folder.split(separator: "/").dropLast() {
            path += "/" + component
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let searchable = info.st_uid == uid ? (info.st_mode & S_IXUSR) != 0 : (info.st_mode & S_IXOTH) != 0
            guard searchable else {
                throw EmbeddedStoreError("PostgreSQL runs as '\(user)', which cannot enter \(path) (mode \(String(info.st_mode & 0o777, radix: 8))); choose a data folder elsewhere with --data-dir or SWITCHBOARD_DATA_DIR")
            }
        }
    }
}
