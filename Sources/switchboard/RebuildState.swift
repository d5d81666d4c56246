import ArgumentParser
import ExperimentService
import NIOPosix
import PluginHost

/// `switchboard rebuild-state`: rebuild experiments' statistics and counters in Redis from PostgreSQL.
struct RebuildState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-state",
        abstract: "Rebuild policy statistics and counters in Redis from PostgreSQL, exactly, while replicas keep serving.",
        discussion: """
            Replicas rebuild an experiment's state by themselves when Redis has lost it; this \
            command replaces it on demand (after restoring Redis from an old dump, say). Uses \
            DATABASE_URL and REDIS_URL, or the embedded stores of --data-dir.
            """)

    @Option(name: .customLong("experiment"), help: "An experiment key; repeatable (default: every experiment).")
    var experiments: [String] = []

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.makeLogger()
        try await withStores(common, logger: logger) { urls, _ in
            let database = PostgresDatabase(url: urls.database, connections: 2, threadPool: .singleton)
            let stores = try Stores.connect(database: database, redisURL: urls.redis)
            let registry = PolicyRegistry(folders: PluginFolders(common.resolvedPluginDirs),
                                          cacheFolder: common.resolvedDataDir + "/plugin-cache", logger: logger)
            try await PolicyBootstrap.load(into: registry, libraries: stores.libraries, logger: logger)
            let components = ServiceComponents(stores: stores, policies: registry, logger: logger)
            let rebuilder = components.rebuilder
            let keys = experiments.isEmpty ? try await components.catalog.all().map(\.key) : experiments
            var failed = 0
            for key in keys {
                do {
                    if let report = try await rebuilder.rebuild(experiment: key, force: true) {
                        print("rebuilt \(report)")
                    } else {
                        print("skipped \(key): another rebuild holds it; try again when it finishes")
                        failed += 1
                    }
                } catch {
                    print("failed \(key): \(error)")
                    failed += 1
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
