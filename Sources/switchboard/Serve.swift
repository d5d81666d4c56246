import ArgumentParser
import ExperimentService
import Foundation
import Logging
import NIOPosix
import PluginHost
import ServiceLifecycle

/// `switchboard serve`: the HTTP API, on existing stores or embedded ones.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API (migrates the database first).")

    @Option(help: "Address to listen on (env SWITCHBOARD_HOST).")
    var host: String?

    @Option(help: "Port to listen on (env SWITCHBOARD_PORT).")
    var port: Int?

    @Flag(help: "Listen on a non-loopback address even without API keys (every route, admin ones included, is then open).")
    var insecure = false

    @Option(help: "How often each replica flushes its policy deltas and counts to Redis, in ms (env SWITCHBOARD_FLUSH_INTERVAL_MS; default 20).")
    var flushIntervalMs: Int?

    @OptionGroup var common: CommonOptions

    func run() async throws { try await run(extraServices: { _, _ in [] }) }

    /// Serves, with more services over the same components and store URLs (`consume`).
    func run(extraServices: @escaping (ServiceComponents, (database: String, redis: String)) -> [any Service]) async throws {
        let logger = common.makeLogger()
        let env = common.environment
        let host = self.host ?? env["SWITCHBOARD_HOST"] ?? "127.0.0.1"
        guard let port = self.port ?? Int(env["SWITCHBOARD_PORT"] ?? "8080"), (0...65535).contains(port) else {
            throw ValidationError("SWITCHBOARD_PORT must be a port number")
        }
        guard let flushMs = self.flushIntervalMs ?? Int(env["SWITCHBOARD_FLUSH_INTERVAL_MS"] ?? "20"), (1...600_000).contains(flushMs) else {
            throw ValidationError("the flush interval must be 1 to 600000 ms")
        }
        let keys = APIKeys.fromEnvironment()
        if let refusal = ExposureCheck.refusal(host: host, keys: keys, insecure: insecure) { throw ValidationError(refusal) }
        let sqlDir = try common.resolvedSQLDir()
        let migrations = try Migrator.load(from: sqlDir)
        try await withStores(common, logger: logger) { urls, embedded in
            let threadPool = NIOThreadPool(numberOfThreads: 6)
            threadPool.start()
            let database = PostgresDatabase(url: urls.database, threadPool: threadPool)
            let applied = try await Migrator(database: database, logger: logger).migrate(migrations)
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["names": "\(applied)"]) }
            let stores = try Stores.connect(database: database, redisURL: urls.redis)
            // Absolute: a crash is traced to a plugin by the path its library was opened from.
            let dataDir = URL(fileURLWithPath: common.resolvedDataDir).standardizedFileURL.path
            let registry = PolicyRegistry(
                folders: PluginFolders(common.resolvedPluginDirs),
                cacheFolder: dataDir + "/plugin-cache", checker: .ofThisExecutable(), logger: logger)
            let quarantined = try await Self.quarantineCrashedPlugin(marker: dataDir + "/plugin-crash", stores: stores, logger: logger)
            try await PolicyBootstrap.load(into: registry, libraries: stores.libraries, quarantine: quarantined, logger: logger)
            try PluginCrashGuard.install(marker: dataDir + "/plugin-crash", pluginFolder: registry.cacheFolder)
            logger.info("policies loaded", metadata: ["policies": "\(registry.policies.map(\.id))"])
            if keys.isOpen {
                logger.warning("no API keys configured (SWITCHBOARD_ADMIN_KEYS, SWITCHBOARD_CLIENT_KEYS): every request is accepted",
                               metadata: ["host": "\(host)"])
            }
            let app = buildApplication(host: host, port: port, stores: stores, policies: registry, keys: keys,
                                       metrics: MetricsSetup.bootstrap(), flushInterval: .milliseconds(flushMs), logger: logger,
                                       extraServices: { extraServices($0, urls) })
            let services: [any Service] = (embedded.map { [$0] } ?? []) + [app]
            let group = ServiceGroup(configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
            do {
                try await group.run()
            } catch {
                try? await threadPool.shutdownGracefully()
                throw error
            }
            try await threadPool.shutdownGracefully()
        }
    }
}

extension Serve {
    /// If the last run of this data folder was brought down by a plugin library, switches
    /// that library off (in PostgreSQL, for every replica) so this start does not crash on
    /// the same traffic; returns every switched-off library (SHA-256 → why).
    static func quarantineCrashedPlugin(marker: String, stores: Stores, logger: Logger) async throws -> [String: String] {
        let quarantine = stores.quarantine
        if let crash = PluginCrashGuard.takeCrash(marker: marker) {
            let when = ISO8601DateFormatter().string(from: Date())
            let reason = "its library \(URL(fileURLWithPath: crash.library).lastPathComponent) crashed the server (\(crash.signalName), signal \(crash.signal)); noticed at \(when)"
            do {
                let sha256 = try PolicyRegistry.digest(crash.library, expected: nil)
                try await quarantine.add(sha256: sha256, path: crash.library, reason: reason)
                logger.critical("a plugin library crashed the last run; it is switched off", metadata: ["library": "\(crash.library)", "signal": "\(crash.signal)"])
            } catch {
                logger.critical("a plugin library crashed the last run but could not be switched off", metadata: ["library": "\(crash.library)", "error": "\(error)"])
            }
        }
        return try await quarantine.all()
    }
}

/// Runs `body` with the store URLs: the environment's, or those of embedded stores started
/// for the call (and stopped after it, also when it throws).
func withStores(
    _ options: CommonOptions, logger: Logger,
    _ body: ((database: String, redis: String), EmbeddedStores?) async throws -> Void
) async throws {
    if let urls = try options.externalStoreURLs() {
        try await body(urls, nil)
        return
    }
    let embedded = try await EmbeddedStores.start(folder: options.resolvedDataDir, logger: logger)
    do {
        try await body((embedded.databaseURL, embedded.redisURL), embedded)
    } catch {
        await embedded.stop()
        throw error
    }
    await embedded.stop()
}
