import Foundation

/// Reads of decisions, the default-reward sweep and the health check.
extension PostgresDecisionLog {
    public func decision(id: UUID) async throws -> Decision? {
        try await decisions(ids: [id])[id]
    }

    /// Several decisions in one query (shared with concurrent callers' look-ups).
    public func decisions(ids: [UUID]) async throws -> [UUID: Decision] {
        guard !ids.isEmpty else { return [:] }
        return try await lookups.submit(ids)
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
                "SELECT id, experiment, arm_index, unit, propensity, context::text, policy, seed FROM switchboard.decisions WHERE id = ANY($1::uuid[])",
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
                seed: row[7].flatMap { Int64($0) }.map { UInt64(bitPattern: $0) } ?? 0
            )
        }
        return result
    }

    /// A decision that just got its experiment's default reward.
    public struct DefaultedDecision: Sendable {
        public var decision: Decision
        /// Whether the policy learns from the default (it made the decision).
        public var learned: Bool
        /// The policy time stored with the default reward.
        public var policyTime: Double
        /// The transaction that stored it.
        public var commit: CommitID
    }

    /// Gives every decision of `experiment` whose reward window ended without a `reward`
    /// the default value (source 'default'), at most `limit` at a time, and returns those
    /// decisions. Replicas may run this concurrently: each decision is defaulted by exactly
    /// one of them (the one whose insert wins). Looks back one day past the window.
    /// `policy` (name@version) marks which defaults are learned from: those of decisions the
    /// policy made. Their policy time is the time since the experiment's creation, now.
    public func recordDefaultRewards(experiment: String, windowSeconds: Int, value: Double, policy: String,
                                     limit: Int = 1_000) async throws -> [DefaultedDecision] {
        let rows = try await database.withConnection { conn in
            try conn.query(
                """
                WITH due AS (
                    SELECT d.id, d.policy FROM switchboard.decisions d
                    WHERE d.experiment = $1
                      AND d.created_at < now() - make_interval(secs => $2::float8)
                      AND d.created_at >= now() - make_interval(secs => $2::float8 + 86400)
                      AND NOT EXISTS (SELECT 1 FROM switchboard.rewards r WHERE r.decision_id = d.id AND r.metric = 'reward')
                    ORDER BY d.created_at
                    LIMIT $4::integer),
                clock AS (
                    SELECT extract(epoch FROM now() - e.created_at)::float8 AS policy_time
                    FROM switchboard.experiments e WHERE e.key = $1),
                ins AS (
                    INSERT INTO switchboard.rewards (decision_id, metric, value, source, learned, policy_time)
                    SELECT id, 'reward', $3::float8, 'default', policy = $5, clock.policy_time FROM due, clock
                    ON CONFLICT (decision_id, metric) DO NOTHING
                    RETURNING decision_id, learned, policy_time)
                SELECT decision_id, learned, policy_time, pg_current_xact_id()::text FROM ins
                """, [experiment, String(windowSeconds), String(value), String(limit), policy])
        }
        let found = try await decisions(ids: rows.rows.compactMap { $0[0].flatMap(UUID.init(uuidString:)) })
        return rows.rows.compactMap { row in
            guard let id = row[0].flatMap(UUID.init(uuidString:)), let decision = found[id],
                  let xid = row[3].flatMap({ UInt64($0) }) else { return nil }
            return DefaultedDecision(decision: decision, learned: row[1] == "t", policyTime: row[2].flatMap { Double($0) } ?? 0,
                                     commit: CommitID(xid))
        }
    }

    public func ping() async throws {
        try await database.withConnection { conn in _ = try conn.query("SELECT 1") }
    }
}
