import Foundation

/// Registered plugin libraries in `switchboard.policy_libraries`.
public struct PostgresPolicyLibraryRepository: PolicyLibraryRepository {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func record(sha256: String, path: String, policies: [String]) async throws {
        let names = String(decoding: try JSONEncoder().encode(policies), as: UTF8.self)
        _ = try await database.withConnection { conn in
            try conn.query(
                """
                INSERT INTO switchboard.policy_libraries (sha256, path, policies)
                SELECT $1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb))
                ON CONFLICT (sha256) DO UPDATE SET path = EXCLUDED.path  -- the latest registration's path wins
                """, [sha256, path, names])
        }
    }

    public func all() async throws -> [(sha256: String, path: String, policies: [String])] {
        let rows = try await database.withConnection { conn in
            try conn.query("SELECT sha256, path, array_to_json(policies)::text FROM switchboard.policy_libraries ORDER BY registered_at, sha256")
        }
        return rows.rows.map { row in
            let policies = row[2].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            return (row[0] ?? "", row[1] ?? "", policies)
        }
    }
}
