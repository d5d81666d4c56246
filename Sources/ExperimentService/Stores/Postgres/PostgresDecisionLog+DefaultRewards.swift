import Foundation

/// The default-reward sweep.
extension PostgresDecisionLog {
    /// Gives every decision of `experiment` whose reward window ended without a `reward`
    /// the default value of the primary metric (source 'default'), at most `limit` at a time, and returns those
    /// decisions. Replicas may run this concurrently: each decision is defaulted by exactly
    /// one of them (the one whose insert wins). Looks back one day past the window.
    /// `policy` (name@version) marks which defaults are learned from: those of decisions the
    /// policy made. Their policy time is the time since the experiment's creation, now.
    public func recordDefaultRewards(experiment: String, windowSeconds: Int, value: Double, policy: String,
                                     limit: Int) async throws -> [DefaultedDecision] {
        let rows = try await database.withConnection { conn in
            try conn.query(
                """
                WITH metric AS (
                    SELECT name FROM switchboard.experiment_metrics WHERE experiment = $1 AND is_primary),
                due AS (
                    SELECT d.id, d.policy FROM switchboard.decisions d
                    WHERE d.experiment = $1
                      AND d.created_at < now() - make_interval(secs => $2::float8)
                      AND d.created_at >= now() - make_interval(secs => $2::float8 + 86400)
                      AND NOT EXISTS (SELECT 1 FROM switchboard.rewards r WHERE r.decision_id = d.id AND r.metric = (SELECT name FROM metric))
                    ORDER BY d.created_at
                    LIMIT $4::integer),
                clock AS (
                    SELECT extract(epoch FROM now() - e.created_at)::float8 AS policy_time
                    FROM switchboard.experiments e WHERE e.key = $1),
                ins AS (
                    INSERT INTO switchboard.rewards (decision_id, metric, value, source, learned, policy_time)
                    SELECT id, metric.name, $3::float8, 'default', policy = $5, clock.policy_time FROM due, clock, metric
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
}
