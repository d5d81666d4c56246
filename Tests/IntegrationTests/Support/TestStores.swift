@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import PluginHost
import Prometheus
import Testing
@_exported import TestSupport

/// The real PostgreSQL and Redis that `scripts/test` starts, migrated once per test process.
///
/// Tests share the servers and run in parallel, so each test uses its own experiment keys
/// (``uniqueKey(_:)``) and never depends on global row counts.
enum TestStores {
    static var logger: Logger { TestSupport.logger }

    static let threadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    static var databaseURL: String { ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "" }
    static var redisURL: String { ProcessInfo.processInfo.environment["REDIS_URL"] ?? "" }

    static let database = PostgresDatabase(url: databaseURL, threadPool: threadPool)

    private static let migrated = Task<Void, any Error> {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../sql").standardizedFileURL.path
        try await Migrator(database: database, logger: logger).migrate(try Migrator.load(from: folder))
    }

    /// The process-wide Prometheus registry (swift-metrics is bootstrapped once per process).
    static var metrics: PrometheusCollectorRegistry { TestSupport.metrics }

    /// The policy registry of the test process: the built-in library, loaded once.
    static var policies: PolicyRegistry { TestSupport.policies }

    /// The stores, after checking that the environment names them and migrating once.
    static func stores() async throws -> Stores {
        try #require(!databaseURL.isEmpty && !redisURL.isEmpty,
                     "DATABASE_URL and REDIS_URL are not set: run the tests with scripts/test, which starts PostgreSQL and Redis")
        try await migrated.value
        return try Stores.connect(database: database, redisURL: redisURL)
    }

    /// The path of the `sql/` folder of this checkout.
    static var sqlFolder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../sql").standardizedFileURL.path
    }

    /// A key no other test uses.
    static func uniqueKey(_ prefix: String) -> String { TestSupport.uniqueKey(prefix) }

    /// Runs one SQL query against the test database and returns its rows as text.
    /// A new, empty database on the test server, for a `serve` whose rows must not mix with
    /// other tests' (what a fuzzer creates; `apply --prune`); the service migrates it.
    static func privateDatabaseURL(_ prefix: String) async throws -> String {
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await query("CREATE DATABASE \(name)")
        return String(databaseURL[..<(databaseURL.lastIndex(of: "/") ?? databaseURL.endIndex)]) + "/" + name
    }

    static func query(_ sql: String, _ parameters: [String?] = []) async throws -> [[String?]] {
        try await database.withConnection { try $0.query(sql, parameters).rows }
    }

    /// A query on another database of the test server (one of ``privateDatabaseURL(_:)``'s).
    static func query(_ sql: String, _ parameters: [String?] = [], database url: String) async throws -> [[String?]] {
        let connection = PostgresConnection(url: url)
        defer { connection.close() }
        return try connection.query(sql, parameters).rows
    }
}

/// Runs `test` against the application on the real stores, through Hummingbird's router test client.
func withApp<T>(stores: Stores? = nil, policies: PolicyRegistry? = nil, keys: APIKeys = APIKeys(admin: [], client: []),
                _ test: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
    let stores = if let stores { stores } else { try await TestStores.stores() }
    let app = buildApplication(host: "127.0.0.1", port: 0, stores: stores, policies: policies ?? TestStores.policies, keys: keys,
                               metrics: TestStores.metrics, logger: TestStores.logger)
    return try await app.test(.router, test)
}

extension TestStores {
    /// A group commit of its own over the test database and Redis (run it to write).
    static func groupCommit(maxQueue: Int = 20_000) async throws -> GroupCommit {
        let stores = try await stores()
        return GroupCommit(log: PostgresDecisionLog(database: database), units: stores.stickyUnits, maxQueue: maxQueue)
    }
}

extension GroupCommit {
    /// Records a decision without a claim.
    @discardableResult
    func record(_ decision: Decision) async throws -> CommitID {
        try await record(decision, claim: nil).commit
    }

    /// Records one reward.
    func record(_ reward: Reward) async throws -> (outcome: RewardOutcome, commit: CommitID) {
        try await record([reward])[0].get()
    }
}

extension TestStores {
    /// A Redis pipeline for tests that look at Redis directly.
    static func redis(_ commands: [[String]]) async throws -> [RedisReply] {
        try await RedisPipeline(url: redisURL).run(commands)
    }
}
