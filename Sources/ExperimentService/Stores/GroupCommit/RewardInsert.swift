import Foundation

/// A batch of rewards in the group commit's transaction: two statements whatever the batch
/// size, and each reward's outcome (stored now, a duplicate of the same value, or a
/// conflict with another value). Decisions are not looked up again: the reward carries its
/// decision's experiment and arm, and the foreign key checks that the decision exists.
enum RewardInsert {
    struct Row: Encodable {
        var decision_id: String, metric: String, value: Double, learned: Bool, policy_time: Double?
        /// Where the reward is rolled up (not sent with the row).
        var experiment: String, phase: Int, armIndex: Int

        init(_ r: Reward) {
            (decision_id, metric, value, learned, policy_time) = (r.decisionID.uuidString, r.metric, r.value, r.learned, r.policyTime)
            (experiment, phase, armIndex) = (r.experiment, r.phase, r.armIndex)
        }

        enum CodingKeys: String, CodingKey { case decision_id, metric, value, learned, policy_time }

        /// The reward's key, (decision, metric), as text.
        var key: String { decision_id.lowercased() + "\u{0}" + metric }
    }

    /// Any value already stored for each reward's (decision, metric), by position.
    static let lookUp = """
        SELECT t.ord, r.value
        FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (decision_id uuid, metric text))
             WITH ORDINALITY AS t(decision_id, metric, ord)
        JOIN switchboard.rewards r ON r.decision_id = t.decision_id AND r.metric = t.metric
        """

    /// Inserts the rewards chosen for insertion; returns those that were stored (another
    /// transaction may have stored the same key since the look-up).
    static let insert = """
        INSERT INTO switchboard.rewards (decision_id, metric, value, learned, policy_time)
        SELECT decision_id, metric, value, learned, policy_time
        FROM jsonb_to_recordset($1::jsonb) AS t(decision_id uuid, metric text, value float8, learned boolean, policy_time float8)
        ON CONFLICT (decision_id, metric) DO NOTHING
        RETURNING decision_id, metric
        """

    /// Appends the stored rewards' sums per experiment, metric, phase and arm to
    /// `switchboard.metric_rollups` (the hour is the table's default, `now()`, as for the
    /// rewards). Summed here, a few rows per batch: cheaper than summing in SQL.
    static let rollup = """
        INSERT INTO switchboard.metric_rollups (experiment, metric, phase, arm_index, rewards, value_sum, value_sum_squares)
        SELECT * FROM jsonb_to_recordset($1::jsonb)
            AS t(experiment text, metric text, phase integer, arm_index integer, rewards bigint, value_sum float8, value_sum_squares float8)
        """

    struct SumKey: Hashable {
        var experiment: String, metric: String, phase: Int, arm_index: Int
    }

    /// The sums of `rows`, one per experiment, metric, phase and arm.
    static func sums(_ rows: [Row]) throws(StoreError) -> String? {
        struct Totals: Encodable {
            var experiment: String, metric: String, phase: Int, arm_index: Int
            var rewards: Int64, value_sum: Double, value_sum_squares: Double
        }
        var totals: [SumKey: Totals] = [:]
        for r in rows {
            let key = SumKey(experiment: r.experiment, metric: r.metric, phase: r.phase, arm_index: r.armIndex)
            totals[key, default: Totals(experiment: r.experiment, metric: r.metric, phase: r.phase, arm_index: r.armIndex,
                                        rewards: 0, value_sum: 0, value_sum_squares: 0)].rewards += 1
            totals[key]?.value_sum += r.value
            totals[key]?.value_sum_squares += r.value * r.value
        }
        guard !totals.isEmpty else { return nil }
        do { return String(decoding: try JSONEncoder().encode(Array(totals.values)), as: UTF8.self) } catch {
            throw StoreError(.unexpectedReply, store: .postgres, message: "cannot encode the rewards' sums: \(error)")
        }
    }

    /// The values stored by other transactions for rewards a batch lost to them.
    static let lookUpWinners = """
        SELECT r.decision_id, r.metric, r.value
        FROM jsonb_to_recordset($1::jsonb) AS t(decision_id uuid, metric text)
        JOIN switchboard.rewards r ON r.decision_id = t.decision_id AND r.metric = t.metric
        """

    /// Writes `rewards` in the caller's transaction; one outcome per reward, in order. A
    /// repeat inside the batch is judged against its first occurrence; a reward that
    /// another transaction (another replica) stored since the look-up is judged against
    /// that transaction's committed value, as on a single replica.
    static func write(_ rewards: [Row], _ conn: PostgresConnection) throws(StoreError) -> [RewardOutcome] {
        var outcomes = [RewardOutcome](repeating: .recorded, count: rewards.count)
        var existing: [Int: Double] = [:]
        for row in try conn.query(lookUp, [try json(rewards)]).rows {
            if let ord = row[0].flatMap({ Int($0) }), rewards.indices.contains(ord - 1), let value = row[1].flatMap({ Double($0) }) {
                existing[ord - 1] = value
            }
        }
        var first: [String: Int] = [:]
        var toInsert: [Int] = []
        for (i, r) in rewards.enumerated() {
            if let stored = existing[i] {
                outcomes[i] = stored == r.value ? .duplicate : .conflict(existing: stored)
            } else if let earlier = first[r.key] {
                outcomes[i] = rewards[earlier].value == r.value ? .duplicate : .conflict(existing: rewards[earlier].value)
            } else {
                first[r.key] = i
                toInsert.append(i)
            }
        }
        guard !toInsert.isEmpty else { return outcomes }
        let stored = Set(try conn.query(insert, [try json(toInsert.map { rewards[$0] })]).rows.map { ($0[0] ?? "").lowercased() + "\u{0}" + ($0[1] ?? "") })
        if let sums = try sums(toInsert.map { rewards[$0] }.filter { stored.contains($0.key) }) {
            try conn.query(rollup, [sums])
        }
        let lost = toInsert.filter { !stored.contains(rewards[$0].key) }
        guard !lost.isEmpty else { return outcomes }
        var winners: [String: Double] = [:]
        for row in try conn.query(lookUpWinners, [try json(lost.map { rewards[$0] })]).rows {
            if let value = row[2].flatMap({ Double($0) }) { winners[(row[0] ?? "").lowercased() + "\u{0}" + (row[1] ?? "")] = value }
        }
        for i in lost {
            if let value = winners[rewards[i].key], value != rewards[i].value {
                outcomes[i] = .conflict(existing: value)
            } else {
                outcomes[i] = .duplicate
            }
        }
        return outcomes
    }

    static func json(_ rows: [Row]) throws(StoreError) -> String {
        do { return String(decoding: try JSONEncoder().encode(rows), as: UTF8.self) } catch {
            throw StoreError(.unexpectedReply, store: .postgres, message: "cannot encode rewards: \(error)")
        }
    }
}
