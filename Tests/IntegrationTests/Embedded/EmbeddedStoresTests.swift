@testable import ExperimentService
import Foundation
import Testing

@Suite("Embedded PostgreSQL and Redis", .serialized)
struct EmbeddedStoresTests {
    @Test("start in a fresh folder, answer queries, refuse a second user of the folder, stop cleanly")
    func lifecycle() async throws {
        let folder = "/tmp/switchboard-embedded-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stores = try await EmbeddedStores.start(folder: folder, logger: TestStores.logger)
        do {
            let db = PostgresConnection(url: stores.databaseURL)
            #expect(try db.query("SELECT current_database(), current_user").rows == [["switchboard", "switchboard"]])
            db.close()
            let redis = RedisConnection(endpoint: try .init(url: stores.redisURL))
            #expect(try redis.command(["PING"]) == .status("PONG"))
            redis.close()
            #expect(FileManager.default.fileExists(atPath: stores.envFile))

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
