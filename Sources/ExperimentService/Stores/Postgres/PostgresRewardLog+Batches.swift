import Foundation

/// The statements of a group-commit batch and the per-row outcomes of rewards.
extension PostgresRewardLog {
    /// A batch of decisions as the eleven binary array parameters of ``insertDecisions``:
    /// one array per column, and every decision's probabilities in one flat array that
    /// each row slices (`lo`, `hi`; NULL when a decision has none).
    static func decisionColumns(_ decisions: [Decision]) -> [[UInt8]] {
        let n = decisions.count
        var ids = PostgresBinaryArray(.uuid, capacity: n * 20)
        var experiments = PostgresBinaryArray(.text, capacity: n * 24)
        var arms = PostgresBinaryArray(.int4, capacity: n * 8)
        var units = PostgresBinaryArray(.text, capacity: n * 24)
        var propensities = PostgresBinaryArray(.float8, capacity: n * 12)
        var contexts = PostgresBinaryArray(.text, capacity: n * 8)
        var policies = PostgresBinaryArray(.text, capacity: n * 24)
        var seeds = PostgresBinaryArray(.int8, capacity: n * 12)
        var probabilities = PostgresBinaryArray(.float8, capacity: n * 48)
        var lows = PostgresBinaryArray(.int4, capacity: n * 8)
        var highs = PostgresBinaryArray(.int4, capacity: n * 8)
        var next: Int32 = 1
        for d in decisions {
            ids.append(uuid: d.id)
            experiments.append(text: d.experiment)
            arms.append(int4: Int32(d.armIndex))
            units.append(text: d.unit)
            propensities.append(float8: d.propensity)
            if let context = d.context { contexts.append(text: JSONText.object(context)) } else { contexts.appendNull() }
            policies.append(text: d.policy)
            seeds.append(int8: Int64(bitPattern: d.seed))
            if let p = d.probabilities {
                for value in p { probabilities.append(float8: value) }
                lows.append(int4: next)
                next += Int32(p.count)
                highs.append(int4: next - 1)
            } else {
                lows.appendNull()
                highs.appendNull()
            }
        }
        return [ids, experiments, arms, units, propensities, contexts, policies, seeds, probabilities, lows, highs].map(\.bytes)
    }

    struct RewardRow: Encodable {
        var decision_id: String, metric: String, value: Double, learned: Bool, policy_time: Double?
    }

    /// The id of the caller's transaction (assigned now if it has none yet): every row of
    /// a batch carries it, so shared state can tell which writes a rebuild already counted.
    static func currentTransaction(_ conn: PostgresConnection) throws(StoreError) -> CommitID {
        guard let text = try conn.query("SELECT pg_current_xact_id()::text").rows.first?[0], let xid = UInt64(text) else {
            throw StoreError(.unexpectedReply, store: .postgres, message: "pg_current_xact_id() returned no transaction id")
        }
        return CommitID(xid)
    }

    static let insertDecisions = """
        INSERT INTO switchboard.decisions (id, experiment, arm_index, unit, propensity, context, policy, seed, probabilities)
        SELECT id, experiment, arm_index, unit, propensity, context::jsonb, policy, seed,
               CASE WHEN lo IS NULL THEN NULL ELSE ($9::float8[])[lo:hi] END
        FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::bigint[],
                    $10::integer[], $11::integer[])
             AS t(id, experiment, arm_index, unit, propensity, context, policy, seed, lo, hi)
        """

    /// Inserts decisions in a statement of their own (committed when it ends) and returns
    /// its transaction id: one round trip instead of BEGIN, id, INSERT, COMMIT.
    static let insertDecisionsAloneSQL = "WITH inserted AS (\(insertDecisions) RETURNING 1) SELECT pg_current_xact_id()::text"

    static func insertDecisionsAlone(_ columns: [[UInt8]], _ conn: PostgresConnection) throws(StoreError) -> CommitID {
        guard let text = try conn.queryPrepared(insertDecisionsAloneSQL, binary: columns).rows.first?[0], let xid = UInt64(text) else {
            throw StoreError(.unexpectedReply, store: .postgres, message: "pg_current_xact_id() returned no transaction id")
        }
        return CommitID(xid)
    }

    /// Looks up, for each reward of a batch (in order), its decision's experiment and arm
    /// and any value already stored for its (decision, metric). One index probe per row.
    static let lookUpRewards = """
        SELECT t.ord, d.experiment, d.arm_index, r.value
        FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (decision_id uuid, metric text, value float8))
             WITH ORDINALITY AS t(decision_id, metric, value, ord)
        LEFT JOIN switchboard.decisions d ON d.id = t.decision_id
        LEFT JOIN switchboard.rewards r ON r.decision_id = t.decision_id AND r.metric = t.metric
        ORDER BY t.ord
        """

    /// Inserts the rewards chosen for insertion; returns those that were stored (another
    /// transaction may have stored the same key since the look-up).
    static let insertRewards = """
        INSERT INTO switchboard.rewards (decision_id, metric, value, learned, policy_time)
        SELECT decision_id, metric, value, learned, policy_time
        FROM jsonb_to_recordset($1::jsonb) AS t(decision_id uuid, metric text, value float8, learned boolean, policy_time float8)
        ON CONFLICT (decision_id, metric) DO NOTHING
        RETURNING decision_id, metric
        """

    /// Writes a batch of rewards in the caller's transaction and returns each row's outcome:
    /// stored now, a duplicate of the same value, a conflict with another value, or no such
    /// decision. Two statements whatever the batch size (a single statement joining the
    /// insert's results back to its input made PostgreSQL use a quadratic nested loop).
    static func writeRewards(_ rewards: [RewardRow], json: String, _ conn: PostgresConnection) throws(StoreError) -> [RewardOutcome] {
        let found = try conn.query(lookUpRewards, [json])
        var outcomes = [RewardOutcome](repeating: .unknownDecision, count: rewards.count)
        var decisionOf = [(experiment: String, arm: Int)?](repeating: nil, count: rewards.count)
        var firstIndex: [String: Int] = [:]
        var toInsert: [Int] = []
        for row in found.rows {
            guard let ord = row[0].flatMap({ Int($0) }), rewards.indices.contains(ord - 1),
                  let experiment = row[1], let arm = row[2].flatMap({ Int($0) }) else { continue }
            let i = ord - 1
            decisionOf[i] = (experiment, arm)
            let key = rewards[i].decision_id.lowercased() + "\u{0}" + rewards[i].metric
            if let existing = row[3].flatMap({ Double($0) }) {
                outcomes[i] = existing == rewards[i].value ? .duplicate(experiment: experiment, armIndex: arm) : .conflict(existing: existing)
            } else if let first = firstIndex[key] {
                // A repeat inside this batch: judged against the first occurrence below.
                outcomes[i] = rewards[first].value == rewards[i].value ? .duplicate(experiment: experiment, armIndex: arm)
                                                                      : .conflict(existing: rewards[first].value)
            } else {
                firstIndex[key] = i
                toInsert.append(i)
            }
        }
        guard !toInsert.isEmpty else { return outcomes }
        let insertJSON: String
        do {
            insertJSON = String(decoding: try JSONEncoder().encode(toInsert.map { rewards[$0] }), as: UTF8.self)
        } catch {
            throw StoreError(.unexpectedReply, store: .postgres, message: "cannot encode rewards: \(error)")
        }
        let stored = Set(try conn.query(insertRewards, [insertJSON]).rows.map { ($0[0] ?? "").lowercased() + "\u{0}" + ($0[1] ?? "") })
        for i in toInsert {
            guard let (experiment, arm) = decisionOf[i] else { continue }
            let key = rewards[i].decision_id.lowercased() + "\u{0}" + rewards[i].metric
            // Not stored: another transaction stored this key since the look-up.
            outcomes[i] = stored.contains(key) ? .recorded(experiment: experiment, armIndex: arm) : .duplicate(experiment: experiment, armIndex: arm)
        }
        return outcomes
    }
}
