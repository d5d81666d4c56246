import Foundation

/// The statements of a group-commit batch and the per-row outcomes of rewards.
extension PostgresDecisionLog {
    /// A batch of decisions as a binary `COPY` stream for ``copyDecisions``.
    static func decisionRows(_ decisions: [Decision]) -> [UInt8] {
        var copy = PostgresBinaryCopy(capacity: decisions.count * 160)
        for d in decisions {
            copy.beginRow(fields: 9)
            copy.append(uuid: d.id)
            copy.append(text: d.experiment)
            copy.append(int4: Int32(d.armIndex))
            copy.append(text: d.unit)
            copy.append(float8: d.propensity)
            if let context = d.context { copy.append(jsonb: JSONText.object(context)) } else { copy.appendNull() }
            copy.append(text: d.policy)
            copy.append(int8: Int64(bitPattern: d.seed))
            if let p = d.probabilities {
                var array = PostgresBinaryArray(.float8, capacity: p.count * 12)
                for value in p { array.append(float8: value) }
                copy.append(array: array)
            } else {
                copy.appendNull()
            }
        }
        return copy.finished()
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

    /// Decisions arrive by `COPY`: PostgreSQL stores a batch with its multi-row heap insert
    /// and parses nothing (see ``decisionRows(_:)``).
    static let copyDecisions = """
        COPY switchboard.decisions (id, experiment, arm_index, unit, propensity, context, policy, seed, probabilities)
        FROM STDIN (FORMAT binary)
        """

    /// Stores decisions in a transaction of their own and returns its id: the id query and
    /// the `COPY` go as one query string (one transaction), instead of BEGIN, id, COPY, COMMIT.
    static func insertDecisionsAlone(_ rows: [UInt8], _ conn: PostgresConnection) throws(StoreError) -> CommitID {
        let results = try conn.copyIn("SELECT pg_current_xact_id()::text; \(copyDecisions)", data: rows)
        guard let text = results.first?.rows.first?[0], let xid = UInt64(text) else {
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
        func key(_ i: Int) -> String { rewards[i].decision_id.lowercased() + "\u{0}" + rewards[i].metric }
        // Not stored: another transaction (another replica) stored the key since the look-up.
        // Its value, now committed, tells a duplicate from a conflict, as for a single replica.
        let lost = toInsert.filter { !stored.contains(key($0)) }
        var winners: [String: Double] = [:]
        if !lost.isEmpty {
            let lostJSON: String
            do { lostJSON = String(decoding: try JSONEncoder().encode(lost.map { rewards[$0] }), as: UTF8.self) } catch {
                throw StoreError(.unexpectedReply, store: .postgres, message: "cannot encode rewards: \(error)")
            }
            for row in try conn.query(lookUpWinners, [lostJSON]).rows {
                if let value = row[2].flatMap({ Double($0) }) { winners[(row[0] ?? "").lowercased() + "\u{0}" + (row[1] ?? "")] = value }
            }
        }
        for i in toInsert {
            guard let (experiment, arm) = decisionOf[i] else { continue }
            if stored.contains(key(i)) {
                outcomes[i] = .recorded(experiment: experiment, armIndex: arm)
            } else if let existing = winners[key(i)], existing != rewards[i].value {
                outcomes[i] = .conflict(existing: existing)
            } else {
                outcomes[i] = .duplicate(experiment: experiment, armIndex: arm)
            }
        }
        return outcomes
    }

    /// The values stored by other transactions for rewards a batch lost to them.
    static let lookUpWinners = """
        SELECT r.decision_id, r.metric, r.value
        FROM jsonb_to_recordset($1::jsonb) AS t(decision_id uuid, metric text)
        JOIN switchboard.rewards r ON r.decision_id = t.decision_id AND r.metric = t.metric
        """
}
