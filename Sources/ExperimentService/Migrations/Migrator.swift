import Foundation
import Logging

/// Applies the numbered SQL files of `sql/` (`001_schema.sql`, `002_...`) once each, in
/// order, each in its own transaction, and records them in `switchboard.schema_migrations`
/// with an MD5 of their text. A PostgreSQL advisory lock keeps replicas that start
/// together from migrating at the same time. A file changed after it was applied is an error.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }
    }

    /// Why migrating failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let database: PostgresDatabase
    let logger: Logger
    static let lockKey = "7263518201"  // pg_advisory_lock key for migrations

    public init(database: PostgresDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Reads `NNN_name.sql` files from `folder`, sorted by number.
    public static func load(from folder: String) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw Failure(description: "cannot read the migrations folder '\(folder)': \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let number = Int(name.prefix { $0.isNumber }), name.first?.isNumber == true else {
                throw Failure(description: "migration file '\(name)' does not start with a number (e.g. 003_name.sql)")
            }
            let sql = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            migrations.append(Migration(version: number, name: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw Failure(description: "migrations '\(a.name)' and '\(b.name)' have the same number")
        }
        guard !migrations.isEmpty else { throw Failure(description: "no migrations (*.sql) in '\(folder)'") }
        return migrations
    }

    /// Applies every migration not yet applied; returns the names applied now.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [String] {
        try await database.withConnection { conn in
            try conn.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            defer { _ = try? conn.query("SELECT pg_advisory_unlock(\(Self.lockKey))") }
            try conn.execute(script: """
                CREATE SCHEMA IF NOT EXISTS switchboard;
                CREATE TABLE IF NOT EXISTS switchboard.schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now());
                """)
            let rows = try conn.query("SELECT version, name, checksum FROM switchboard.schema_migrations")
            var applied: [Int: (name: String, checksum: String)] = [:]
            for row in rows.rows {
                if let v = row[0].flatMap({ Int($0) }) { applied[v] = (row[1] ?? "", row[2] ?? "") }
            }
            var done: [String] = []
            for m in migrations {
                if let existing = applied[m.version] {
                    let checksum = try conn.query("SELECT md5($1)", [m.sql]).rows[0][0] ?? ""
                    guard checksum == existing.checksum else {
                        throw Failure(description: "migration '\(m.name)' was changed after it was applied as '\(existing.name)'; add a new numbered file instead")
                    }
                    continue
                }
                do {
                    try conn.transaction { conn throws(StoreError) in
                        try conn.execute(script: m.sql)
                        try conn.query(
                            "INSERT INTO switchboard.schema_migrations (version, name, checksum) VALUES ($1::integer, $2, md5($3))",
                            [String(m.version), m.name, m.sql])
                    }
                } catch {
                    throw Failure(description: "migration '\(m.name)' failed and was rolled back: \(error)")
                }
                done.append(m.name)
            }
            return done
        }
    }
}

extension Migrator {
    /// Where the migrations are when no folder is configured: `./sql`, else the `sql/`
    /// folder of the checkout that built this executable (`.build/<triple>/<config>/`).
    public static func defaultFolder() -> String? {
        let fm = FileManager.default
        if fm.fileExists(atPath: "sql") { return URL(fileURLWithPath: "sql").standardizedFileURL.path }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidate = executable.deletingLastPathComponent()
            .appendingPathComponent("../../../sql").standardizedFileURL.path
        return fm.fileExists(atPath: candidate) ? candidate : nil
    }
}
