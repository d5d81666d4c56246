import Foundation

/// Plugin libraries that crashed a server, in `switchboard.plugin_quarantine`, by SHA-256.
public struct PostgresPluginQuarantine: PluginQuarantine {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    /// Records that the library with `sha256` (at `path`) is switched off, and why.
    public func add(sha256: String, path: String, reason: String) async throws {
        try await database.withConnection { conn in
            _ = try conn.query("""
                INSERT INTO switchboard.plugin_quarantine (sha256, path, reason) VALUES ($1, $2, $3)
                ON CONFLICT (sha256) DO UPDATE SET reason = EXCLUDED.reason, quarantined_at = now()
                """, [sha256, path, reason])
        }
    }

    /// Switches the library back on (an admin registered it again).
    public func remove(sha256: String) async throws {
        try await database.withConnection { conn in
            _ = try conn.query("DELETE FROM switchboard.plugin_quarantine WHERE sha256 = $1", [sha256])
        }
    }

    /// Every switched-off library: SHA-256 → why.
    public func all() async throws -> [String: String] {
        let rows = try await database.withConnection { conn in
            try conn.query("SELECT sha256, reason FROM switchboard.plugin_quarantine").rows
        }
        return rows.reduce(into: [:]) { $0[$1[0] ?? ""] = $1[1] ?? "" }
    }
}
