import Foundation
import PluginHost

/// Registered models (each served by a backend of a library) in `switchboard.model_backends`.
public struct PostgresModelRepository: ModelRepository {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    /// Records (or replaces) an active registration, pinned to the library's SHA-256 and
    /// the backend it named; returns whether it was new or differed from the active one
    /// (configs compared as `jsonb` values). An unchanged registration keeps its row as it was.
    public func record(_ r: ModelRegistration, sha256: String, backend: String) async throws -> Bool {
        try await database.withConnection { conn in
            try conn.query(
                """
                INSERT INTO switchboard.model_backends AS m (name, library, sha256, backend, model, config, active)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, true)
                ON CONFLICT (name) DO UPDATE SET library = EXCLUDED.library, sha256 = EXCLUDED.sha256, backend = EXCLUDED.backend,
                    model = EXCLUDED.model, config = EXCLUDED.config, active = true, registered_at = now()
                WHERE NOT (m.active AND m.library = EXCLUDED.library AND m.sha256 IS NOT DISTINCT FROM EXCLUDED.sha256
                           AND m.backend IS NOT DISTINCT FROM EXCLUDED.backend AND m.model = EXCLUDED.model AND m.config = EXCLUDED.config)
                RETURNING name
                """, [r.name, r.library, sha256, backend, r.model, r.config]).count == 1
        }
    }

    /// Stops routing to `name`; returns whether an active registration had that name.
    public func deactivate(_ name: String) async throws -> Bool {
        try await database.withConnection { conn in
            try conn.query("UPDATE switchboard.model_backends SET active = false WHERE name = $1 AND active RETURNING name", [name]).count == 1
        }
    }

    /// The active registration named `name`, if any.
    public func find(_ name: String) async throws -> ModelRegistration? {
        try await active(where: "AND name = $1", [name]).first
    }

    /// Every active registration, oldest first.
    public func all() async throws -> [ModelRegistration] {
        try await active(where: "", [])
    }

    private func active(where clause: String, _ parameters: [String?]) async throws -> [ModelRegistration] {
        let rows = try await database.withConnection { conn in
            try conn.query("SELECT name, library, sha256, backend, model, config::text FROM switchboard.model_backends WHERE active \(clause) ORDER BY registered_at, name",
                           parameters)
        }
        return rows.rows.map {
            ModelRegistration(name: $0[0] ?? "", library: $0[1] ?? "", sha256: $0[2], backend: $0[3], model: $0[4] ?? "", config: $0[5] ?? "{}")
        }
    }
}
