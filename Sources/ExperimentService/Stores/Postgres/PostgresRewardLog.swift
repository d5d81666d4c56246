import Foundation

/// Decisions and rewards in `switchboard.decisions` and `switchboard.rewards`.
///
/// Each call commits before it returns, so an acknowledged reward is durable.
public struct PostgresRewardLog: RewardLog {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func record(_ decision: Decision) async throws {
        let context = try decision.context.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let parameters: [String?] = [
            decision.id.uuidString, decision.experiment, String(decision.armIndex), decision.unit,
            String(decision.propensity), context, decision.policy, String(Int64(bitPattern: decision.seed)),
        ]
        try await database.withConnection { conn in
            try conn.query(
                """
                INSERT INTO switchboard.decisions (id, experiment, arm_index, unit, propensity, context, policy, seed)
                VALUES ($1::uuid, $2, $3::integer, $4, $5::float8, $6::jsonb, $7, $8::bigint)
                """, parameters)
        }
    }

    public func decision(id: UUID) async throws -> Decision? {
        let rows = try await database.withConnection { conn in
            try conn.query(
                "SELECT experiment, arm_index, unit, propensity, context::text, policy, seed FROM switchboard.decisions WHERE id = $1::uuid",
                [id.uuidString])
        }
        guard let row = rows.rows.first else { return nil }
        let context = try row[4].map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) }
        return Decision(
            id: id, experiment: row[0] ?? "", armIndex: row[1].flatMap { Int($0) } ?? 0, unit: row[2] ?? "",
            propensity: row[3].flatMap { Double($0) } ?? 1, context: context, policy: row[5] ?? "",
            seed: row[6].flatMap { Int64($0) }.map { UInt64(bitPattern: $0) } ?? 0
        )
    }

    public func record(_ reward: Reward) async throws -> RewardOutcome {
        // One round trip: look the decision up, insert unless a reward for (decision, metric)
        // exists, and report the value that was there before (the CTE's snapshot predates the insert).
        let rows = try await database.withConnection { conn in
            try conn.query(
                """
                WITH d AS (SELECT id, experiment, arm_index FROM switchboard.decisions WHERE id = $1::uuid),
                ins AS (
                    INSERT INTO switchboard.rewards (decision_id, metric, value)
                    SELECT id, $2, $3::float8 FROM d
                    ON CONFLICT (decision_id, metric) DO NOTHING
                    RETURNING decision_id)
                SELECT d.experiment, d.arm_index, (SELECT count(*) FROM ins),
                       (SELECT r.value FROM switchboard.rewards r WHERE r.decision_id = d.id AND r.metric = $2)
                FROM d
                """, [reward.decisionID.uuidString, reward.metric, String(reward.value)])
        }
        guard let row = rows.rows.first, let experiment = row[0], let arm = row[1].flatMap({ Int($0) }) else {
            return .unknownDecision
        }
        if row[2] == "1" { return .recorded(experiment: experiment, armIndex: arm) }
        if let existing = row[3].flatMap({ Double($0) }), existing != reward.value {
            return .conflict(existing: existing)
        }
        return .duplicate(experiment: experiment, armIndex: arm)
    }

    public func ping() async throws {
        try await database.withConnection { conn in _ = try conn.query("SELECT 1") }
    }
}
