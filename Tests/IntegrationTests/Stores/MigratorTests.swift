import ExperimentService
import Foundation
import Testing

@Suite("Migrations")
struct MigratorTests {
    @Test("applying the migrations again applies nothing, and each is recorded once")
    func idempotent() async throws {
        _ = try await TestStores.stores()  // migrated once already
        let migrations = try Migrator.load(from: TestStores.sqlFolder)
        let applied = try await Migrator(database: TestStores.database, logger: TestStores.logger).migrate(migrations)
        #expect(applied.isEmpty)
        let rows = try await TestStores.query("SELECT version, name FROM switchboard.schema_migrations ORDER BY version")
        #expect(rows.map { $0[1] } == migrations.map(\.name))
    }

    @Test("a migration changed after it was applied is refused")
    func changedMigration() async throws {
        _ = try await TestStores.stores()
        var migrations = try Migrator.load(from: TestStores.sqlFolder)
        migrations[0].sql += "\n-- edited"
        await #expect {
            try await Migrator(database: TestStores.database, logger: TestStores.logger).migrate(migrations)
        } throws: { error in
            "\(error)".contains("migration '\(migrations[0].name)' was changed after it was applied")
        }
    }

    @Test("files are read in numeric order; bad names and repeated numbers are refused")
    func loading() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "SELECT 2".write(toFile: folder + "/10_b.sql", atomically: true, encoding: .utf8)
        try "SELECT 1".write(toFile: folder + "/9_a.sql", atomically: true, encoding: .utf8)
        try "notes".write(toFile: folder + "/README.md", atomically: true, encoding: .utf8)
        #expect(try Migrator.load(from: folder).map(\.version) == [9, 10])
        try "SELECT 3".write(toFile: folder + "/10_c.sql", atomically: true, encoding: .utf8)
        #expect(throws: Migrator.Failure.self) { try Migrator.load(from: folder) }
        try FileManager.default.removeItem(atPath: folder + "/10_c.sql")
        try "SELECT 4".write(toFile: folder + "/extra.sql", atomically: true, encoding: .utf8)
        #expect { try Migrator.load(from: folder) } throws: { "\($0)".contains("does not start with a number") }
    }

    @Test("a failing migration is rolled back and not recorded")
    func failingMigration() async throws {
        _ = try await TestStores.stores()
        let bad = Migrator.Migration(version: 900_000 + Int.random(in: 0..<99_999), name: "bad.sql",
                                     sql: "CREATE TABLE switchboard.never_created_\(UInt32.random(in: 0...UInt32.max)) (x int); SELECT no_such_function();")
        await #expect { try await Migrator(database: TestStores.database, logger: TestStores.logger).migrate([bad]) } throws: {
            "\($0)".contains("migration 'bad.sql' failed and was rolled back")
        }
        let recorded = try await TestStores.query("SELECT count(*) FROM switchboard.schema_migrations WHERE version = $1::integer", [String(bad.version)])
        #expect(recorded == [["0"]])
        let tables = try await TestStores.query("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'never_created_%'")
        #expect(tables == [["0"]])
    }
}
