@testable import ExperimentService
import Foundation
import PluginHost
import Testing

@Suite("Embedded PostgreSQL and Redis", .serialized)
struct EmbeddedStoresTests {
    @Test("start in a fresh folder, answer queries, refuse a second user of the folder, stop cleanly")
    func lifecycle() async throws {
        let folder = "/tmp/switchboard-embedded-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        setenv("SWITCHBOARD_LEAK_CHECK", "must-not-reach-the-stores", 1)
        let stores = try await EmbeddedStores.start(folder: folder, logger: TestStores.logger)
        unsetenv("SWITCHBOARD_LEAK_CHECK")
        do {
            let db = PostgresConnection(url: stores.databaseURL)
            #expect(try db.query("SELECT current_database(), current_user").rows == [["switchboard", "switchboard"]])
            db.close()
            let redis = RedisConnection(endpoint: try .init(url: stores.redisURL))
            #expect(try redis.command(["PING"]) == .status("PONG"))
            redis.close()
            #expect(FileManager.default.fileExists(atPath: stores.envFile))
            try Self.checkSecured(stores, folder: folder)

            await #expect { _ = try await EmbeddedStores.start(folder: folder, logger: TestStores.logger) } throws: {
                "\($0)".contains("is in use by another switchboard process (PID \(getpid()))")
            }
        } catch {
            await stores.stop()
            throw error
        }
        await stores.stop()
        #expect(!FileManager.default.fileExists(atPath: stores.envFile))
        #expect(throws: StoreError.self) { try PostgresConnection(url: stores.databaseURL, connectTimeoutSeconds: 1).query("SELECT 1") }
        #expect(throws: StoreError.self) { try RedisConnection(endpoint: try .init(url: stores.redisURL)).command(["PING"]) }
    }

    /// Both servers refuse clients without the generated password; files holding it are
    /// owner-only; the servers did not inherit this process's environment.
    static func checkSecured(_ stores: EmbeddedStores, folder: String) throws {
        let pgPort = try #require(URLComponents(string: stores.databaseURL)?.port)
        let redisPort = try #require(URLComponents(string: stores.redisURL)?.port)
        #expect(URLComponents(string: stores.databaseURL)?.password?.count == 64)
        #expect(throws: StoreError.self) {
            try PostgresConnection(url: "postgresql://switchboard@127.0.0.1:\(pgPort)/switchboard", connectTimeoutSeconds: 2).query("SELECT 1")
        }
        #expect(throws: StoreError.self) {
            try PostgresConnection(url: "postgresql://switchboard:wrong@127.0.0.1:\(pgPort)/switchboard", connectTimeoutSeconds: 2).query("SELECT 1")
        }
        let anonymous = RedisConnection(endpoint: try .init(url: "redis://127.0.0.1:\(redisPort)"))
        defer { anonymous.close() }
        guard case .error(let refusal) = try anonymous.command(["GET", "x"]) else {
            Issue.record("Redis answered a client without the password")
            return
        }
        #expect(refusal.hasPrefix("NOAUTH"))
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
        }
        #expect(try mode(stores.envFile) == 0o600)
        #expect(try mode(folder + "/secrets") == 0o600)
        #expect(try mode(folder + "/redis/redis.conf") == 0o600)
        #expect(try mode(folder) & 0o066 == 0, "the data folder is listable by others")
        let redisPID = try String(contentsOfFile: folder + "/redis/redis.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let postgresPID = try #require(try String(contentsOfFile: folder + "/postgres/postmaster.pid", encoding: .utf8).split(separator: "\n").first)
        for pid in [redisPID, String(postgresPID)] {
            let environment = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
            #expect(!environment.contains("SWITCHBOARD_LEAK_CHECK"), "process \(pid) inherited our environment")
        }
    }

    @Test("helper programs get the path, locale and time zone of our environment, never keys or URLs")
    func childEnvironment() {
        let ours = ["PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC", "SWITCHBOARD_ADMIN_KEYS": "a", "SWITCHBOARD_CLIENT_KEYS": "c",
                    "DATABASE_URL": "postgresql://x", "REDIS_URL": "redis://x", "AWS_SECRET_ACCESS_KEY": "s"]
        #expect(HelperProcess.environment(ours) == ["PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC"])
    }

    @Test("helper programs get standard input, output and error, and none of our other descriptors (sockets, pipes)")
    func childDescriptors() throws {
        // A descriptor without close-on-exec, as NIO's sockets are.
        var leaked: [Int32] = [-1, -1], output: [Int32] = [-1, -1]
        try #require(pipe(&leaked) == 0 && pipe(&output) == 0)
        defer { for fd in leaked + [output[0]] { close(fd) } }
        _ = fcntl(output[0], F_SETFD, FD_CLOEXEC)
        let script = "ls /proc/self/fd; test -e /proc/self/fd/\(leaked[1]) && echo leaked"
        let pid = try HelperProcess.spawn(["/bin/sh", "-c", script], environment: HelperProcess.environment(), stdout: output[1], stderr: output[1]).get()
        close(output[1])
        var bytes = [UInt8](), buffer = [UInt8](repeating: 0, count: 1024)
        while case let n = read(output[0], &buffer, buffer.count), n > 0 { bytes += buffer[0..<n] }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let seen = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(!seen.contains("leaked"), "the child got descriptor \(leaked[1]): \(seen)")
        // 0, 1 and 2, and the one `ls` opens to list the folder.
        #expect(seen.compactMap { Int($0) }.filter { $0 > 3 }.isEmpty, "\(seen)")
    }

    @Test("a missing PostgreSQL binary folder is a one-line error that says what to do")
    func missingBinaries() {
        #expect { try EmbeddedPostgres.findBinaries(environment: ["SWITCHBOARD_PG_BIN": "/nonexistent"]) } throws: {
            "\($0)" == "SWITCHBOARD_PG_BIN=/nonexistent has no pg_ctl"
        }
        #expect { try EmbeddedRedis.findExecutable(environment: ["PATH": "/nonexistent"], fallbacks: []) } throws: {
            "\($0)".contains("redis-server was not found on PATH; install it (apt-get install redis-server)")
        }
    }

    @Test("a folder the postgres user cannot enter is refused before anything starts")
    func unreachableFolder() throws {
        guard geteuid() == 0 else { return }  // only root runs PostgreSQL as another user
        let parent = "/tmp/switchboard-private-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: parent) }
        #expect { try EmbeddedPostgres.checkReachable(parent + "/data/postgres", by: "postgres") } throws: {
            "\($0)".contains("cannot enter \(parent) (mode 700)")
        }
    }
}
