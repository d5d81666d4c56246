import ArgumentParser
import ExperimentService
import ServiceLifecycle

/// `switchboard stores`: run only the embedded PostgreSQL and Redis (for tests and tools)
/// until SIGINT or SIGTERM. Their URLs are written to `<data-dir>/stores.env`.
struct StoresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stores",
        abstract: "Run the embedded PostgreSQL and Redis until interrupted; URLs go to <data-dir>/stores.env.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.makeLogger()
        let embedded = try await EmbeddedStores.start(folder: common.resolvedDataDir, logger: logger)
        print("DATABASE_URL=\(embedded.databaseURL)")
        print("REDIS_URL=\(embedded.redisURL)")
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: embedded)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
