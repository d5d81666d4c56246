import ArgumentParser
import ExperimentService
import NIOPosix

/// `switchboard migrate`: apply the SQL migrations that are not applied yet.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the numbered SQL files of sql/ that are not applied yet.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.makeLogger()
        let migrations = try Migrator.load(from: try common.resolvedSQLDir())
        try await withStores(common, logger: logger) { urls, _ in
            let database = PostgresDatabase(url: urls.database, connections: 1, threadPool: .singleton)
            let applied = try await Migrator(database: database, logger: logger).migrate(migrations)
            print(applied.isEmpty ? "up to date (\(migrations.count) migrations)" : "applied: \(applied.joined(separator: ", "))")
        }
    }
}
