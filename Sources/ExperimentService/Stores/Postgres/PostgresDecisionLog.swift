import Foundation

/// The decision log in PostgreSQL (`switchboard.decisions` and `switchboard.rewards`), as
/// read back: decisions by id (concurrent look-ups share one query), the default-reward
/// sweep (`+DefaultRewards`), and the replay and counts a rebuild and the reconciler use
/// (`+Replay`). Rows are written by the ``GroupCommit`` through ``PostgresBatchWriter``.
public final class PostgresDecisionLog: DecisionLog {
    let database: PostgresDatabase
    /// Concurrent decision look-ups share one query.
    let lookups: RequestCoalescer<[UUID], [UUID: Decision]>

    public init(database: PostgresDatabase) {
        self.database = database
        self.lookups = RequestCoalescer(maxBatch: 256) { batches in try await Self.lookUpDecisions(database, batches) }
    }

    public func makeBatchWriter() -> any BatchWriter {
        PostgresBatchWriter(url: database.url)
    }

    /// Several decisions in one query (shared with concurrent callers' look-ups).
    public func decisions(ids: [UUID]) async throws -> [UUID: Decision] {
        guard !ids.isEmpty else { return [:] }
        return try await lookups.submit(ids)
    }

    public func latestDecision(experiment: String, unit: String) async throws -> UUID? {
        let rows = try await database.withConnection { conn in
            try conn.query("""
                SELECT id::text FROM switchboard.decisions WHERE experiment = $1 AND unit = $2 ORDER BY created_at DESC, id DESC LIMIT 1
                """, [experiment, unit])
        }
        return rows.rows.first?[0].flatMap { UUID(uuidString: $0) }
    }

    /// Looks up the decisions of several callers in one query.
    static func lookUpDecisions(_ database: PostgresDatabase, _ batches: [[UUID]]) async throws -> [Result<[UUID: Decision], any Error>] {
        let found = try await fetchDecisions(database, ids: Array(Set(batches.joined())))
        return batches.map { ids in .success(ids.reduce(into: [:]) { $0[$1] = found[$1] }) }
    }

    static func fetchDecisions(_ database: PostgresDatabase, ids: [UUID]) async throws -> [UUID: Decision] {
        let list = "{" + ids.map(\.uuidString).joined(separator: ",") + "}"
        let rows = try await database.withConnection { conn in
            try conn.query(
                "SELECT id, experiment, arm_index, unit, propensity, context::text, policy, seed, phase FROM switchboard.decisions WHERE id = ANY($1::uuid[])",
                [list])
        }
        let decoder = JSONDecoder()
        var result: [UUID: Decision] = [:]
        for row in rows.rows {
            guard let id = row[0].flatMap(UUID.init(uuidString:)) else { continue }
            let context = try row[5].map { try decoder.decode([String: Double].self, from: Data($0.utf8)) }
            result[id] = Decision(
                id: id, experiment: row[1] ?? "", armIndex: row[2].flatMap { Int($0) } ?? 0, unit: row[3] ?? "",
                propensity: row[4].flatMap { Double($0) } ?? 1, context: context, policy: row[6] ?? "",
                seed: row[7].flatMap { Int64($0) }.map { UInt64(bitPattern: $0) } ?? 0,
                phase: row[8].flatMap { Int($0) } ?? 1
            )
        }
        return result
    }

    public func ping() async throws {
        try await database.withConnection { conn in _ = try conn.query("SELECT 1") }
    }
}
