import ArgumentParser
import ExperimentService
import Foundation
import Logging

/// Options shared by the subcommands. Each also reads an environment variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "Folder for the embedded PostgreSQL and Redis (env SWITCHBOARD_DATA_DIR).")
    var dataDir: String?

    @Option(help: "Folder of numbered SQL migrations (env SWITCHBOARD_SQL_DIR; default ./sql).")
    var sqlDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("plugin-dir"), help: "A folder plugins may be registered from; repeatable (env SWITCHBOARD_PLUGIN_DIRS, ':'-separated; default ./policies).")
    var pluginDirs: [String] = []

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var resolvedDataDir: String { dataDir ?? environment["SWITCHBOARD_DATA_DIR"] ?? ".switchboard" }

    var resolvedPluginDirs: [String] {
        if !pluginDirs.isEmpty { return pluginDirs }
        if let list = environment["SWITCHBOARD_PLUGIN_DIRS"] { return list.split(separator: ":").map(String.init) }
        return ["policies"]
    }

    func resolvedSQLDir() throws -> String {
        if let dir = sqlDir ?? environment["SWITCHBOARD_SQL_DIR"] ?? Migrator.defaultFolder() { return dir }
        throw ValidationError("no sql/ folder found; pass --sql-dir or set SWITCHBOARD_SQL_DIR")
    }

    /// `DATABASE_URL` and `REDIS_URL`: both, or neither (then the embedded stores are used).
    func externalStoreURLs() throws -> (database: String, redis: String)? {
        let database = environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let redis = environment["REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
        switch (database, redis) {
        case let (d?, r?): return (d, r)
        case (nil, nil): return nil
        default: throw ValidationError("set both DATABASE_URL and REDIS_URL to use existing servers, or neither to start embedded ones")
        }
    }

    func makeLogger() -> Logger {
        LoggingSystem.bootstrap(DeferredMetadataLogHandler.standardError)
        var logger = Logger(label: "switchboard")
        logger.logLevel = (logLevel ?? environment["LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }
}
