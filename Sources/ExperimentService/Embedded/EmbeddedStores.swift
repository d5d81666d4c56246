import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// The private PostgreSQL and Redis that `switchboard serve` starts when no
/// `DATABASE_URL` and `REDIS_URL` are given, under one data folder:
///
/// ```
/// <folder>/switchboard.lock   held while running (one switchboard per folder)
/// <folder>/secrets            the generated PostgreSQL and Redis passwords (kept between runs)
/// <folder>/postgres/          PostgreSQL data (kept between runs)
/// <folder>/postgres.log
/// <folder>/redis/             Redis config, pid file and log (no data: Redis is a cache)
/// <folder>/stores.env         DATABASE_URL=... and REDIS_URL=... while running
/// ```
///
/// Both servers take only their generated password (SCRAM-SHA-256 for PostgreSQL,
/// `requirepass` for Redis). The folder is listable by its owner only (mode 711: the
/// `postgres` user may pass through it to its own data), and every file that holds a
/// password is mode 600. The servers are started with a minimal environment, so the API
/// keys and store URLs of this process never reach them.
///
/// As a `Service`, it waits for graceful shutdown and then stops both servers; put it
/// first in a `ServiceGroup` so it stops last.
public final class EmbeddedStores: Service, Sendable {
    public let folder: String
    public let databaseURL: String
    public let redisURL: String
    private let postgres: EmbeddedPostgres
    private let redis: EmbeddedRedis
    private let lock: DataFolderLock
    private let stopped = NIOLockedValueBox(false)
    private let logger: Logger

    /// The file listing the running servers' URLs, for tools such as `psql`.
    public var envFile: String { folder + "/stores.env" }

    private init(folder: String, postgres: EmbeddedPostgres, redis: EmbeddedRedis, lock: DataFolderLock, logger: Logger) {
        self.folder = folder
        self.postgres = postgres
        self.redis = redis
        self.lock = lock
        self.logger = logger
        self.databaseURL = postgres.url
        self.redisURL = redis.url
    }

    /// Starts PostgreSQL and Redis on free loopback ports and waits until both accept
    /// connections. On failure nothing is left running.
    public static func start(folder: String, logger: Logger) async throws -> EmbeddedStores {
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        return try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
            chmod(absolute, 0o711)
            let lock = try DataFolderLock(folder: absolute)
            let secrets = try StoreSecrets.load(folder: absolute)
            let postgres = try EmbeddedPostgres(
                folder: absolute + "/postgres", logFile: absolute + "/postgres.log", port: try FreePort.find(), password: secrets.postgres)
            let redis = try EmbeddedRedis(folder: absolute + "/redis", port: try FreePort.find(), password: secrets.redis)
            logger.info("starting embedded PostgreSQL and Redis", metadata: ["folder": "\(absolute)"])
            try postgres.start()
            do {
                try redis.start()
            } catch {
                try? postgres.stop()
                throw error
            }
            let stores = EmbeddedStores(folder: absolute, postgres: postgres, redis: redis, lock: lock, logger: logger)
            try StoreSecrets.writeOwnerOnly(stores.envFile, "DATABASE_URL=\(stores.databaseURL)\nREDIS_URL=\(stores.redisURL)\n")
            logger.info("embedded stores ready", metadata: ["postgres": "127.0.0.1:\(postgres.port)", "redis": "127.0.0.1:\(redis.port)",
                                                           "urls": "\(stores.envFile)"])
            return stores
        }
    }

    /// Stops Redis, then PostgreSQL, and releases the folder. Safe to call more than once.
    public func stop() async {
        let first = stopped.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        try? FileManager.default.removeItem(atPath: envFile)
        let (postgres, redis, logger) = (self.postgres, self.redis, self.logger)
        _ = try? await NIOThreadPool.singleton.runIfActive {
            redis.stop()
            do { try postgres.stop() } catch { logger.error("\(error)") }
        }
        lock.release()
        logger.info("embedded stores stopped")
    }

    /// Waits for graceful shutdown (or cancellation), then stops both servers.
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
