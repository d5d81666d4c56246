import Foundation

/// Reading back what a policy learned, for rebuilding its statistics.
extension PostgresDecisionLog {
    /// How many learned rewards are fetched per round trip.
    static let replayPage = 5_000

    /// Folds every learned reward of `experiment` (in commit order, then decision id) into
    /// `initial`, and counts decisions and rewards per arm, all in one `REPEATABLE READ`
    /// snapshot, which is returned with them. Rewards are streamed through a cursor, so an
    /// experiment of any size is read in bounded memory. `fold` runs on a blocking thread.
    public func replay<Result: Sendable>(
        experiment: String, armCount: Int, initial: Result,
        fold: @escaping @Sendable (inout Result, LearnedReward) throws -> Void
    ) async throws -> Replay<Result> {
        try await database.withConnection { conn in
            try conn.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { conn throws(StoreError) -> Replay<Result> in
                guard let text = try conn.query("SELECT pg_current_snapshot()::text").rows.first?[0], let snapshot = DatabaseSnapshot(text) else {
                    throw StoreError(.unexpectedReply, store: .postgres, message: "pg_current_snapshot() returned no snapshot")
                }
                var counters = [ArmCounters](repeating: ArmCounters(), count: armCount)
                for row in try conn.query(Self.countDecisions, [experiment]).rows {
                    guard let arm = row[0].flatMap({ Int($0) }), counters.indices.contains(arm) else { continue }
                    counters[arm].assignments = row[1].flatMap { Int64($0) } ?? 0
                }
                for row in try conn.query(Self.countRewards, [experiment]).rows {
                    guard let arm = row[0].flatMap({ Int($0) }), counters.indices.contains(arm) else { continue }
                    counters[arm].rewards = row[1].flatMap { Int64($0) } ?? 0
                    counters[arm].rewardSum = row[2].flatMap { Double($0) } ?? 0
                }
                try conn.query(Self.declareReplayCursor, [experiment])
                var result = initial
                var learned = 0
                let decoder = JSONDecoder()
                while true {
                    let page = try conn.query("FETCH \(Self.replayPage) FROM switchboard_replay")
                    if page.rows.isEmpty { break }
                    for row in page.rows {
                        let context: [String: Double]?
                        do {
                            context = try row[1].map { try decoder.decode([String: Double].self, from: Data($0.utf8)) }
                        } catch {
                            throw StoreError(.unexpectedReply, store: .postgres, message: "a decision's context is not an object of numbers: \(error)")
                        }
                        let reward = LearnedReward(
                            arm: row[0].flatMap { Int($0) } ?? 0, context: context,
                            propensity: row[2].flatMap { Double($0) } ?? 1, value: row[3].flatMap { Double($0) } ?? 0,
                            policyTime: row[4].flatMap { Double($0) } ?? 0)
                        do { try fold(&result, reward) } catch let error as StoreError { throw error } catch {
                            throw StoreError(.unexpectedReply, store: .postgres, message: "replaying a learned reward failed: \(error)")
                        }
                        learned += 1
                    }
                }
                try conn.query("CLOSE switchboard_replay")
                return Replay(snapshot: snapshot, result: result, learnedRewards: learned, counters: counters)
            }
        }
    }

    /// The counts that the Redis counters of `experiment` must match (see ``LearningReconciler``).
    public func learningCounts(experiment: String, settled: Duration) async throws -> LearningCounts {
        let seconds = String(Double(settled.components.seconds) + Double(settled.components.attoseconds) / 1e18)
        let row = try await database.withConnection { conn in
            try conn.query(Self.countLearning, [experiment, seconds]).rows.first
        }
        guard let row, row.count == 4 else {
            throw StoreError(.unexpectedReply, store: .postgres, message: "the learning counts query returned no row")
        }
        let n = row.map { $0.flatMap { Int64($0) } ?? 0 }
        return LearningCounts(decisions: n[0], settledDecisions: n[1], rewards: n[2], settledRewards: n[3])
    }

    static let countLearning = """
        SELECT (SELECT count(*) FROM switchboard.decisions WHERE experiment = $1),
               (SELECT count(*) FROM switchboard.decisions WHERE experiment = $1 AND created_at < now() - make_interval(secs => $2::float8)),
               count(*), count(*) FILTER (WHERE r.created_at < now() - make_interval(secs => $2::float8))
        FROM switchboard.rewards r JOIN switchboard.decisions d ON d.id = r.decision_id
        WHERE d.experiment = $1 AND r.metric = (SELECT name FROM switchboard.experiment_metrics WHERE experiment = $1 AND is_primary)
        """

    static let countDecisions = """
        SELECT arm_index, count(*) FROM switchboard.decisions WHERE experiment = $1 GROUP BY arm_index
        """

    static let countRewards = """
        SELECT d.arm_index, count(*), sum(r.value)
        FROM switchboard.rewards r JOIN switchboard.decisions d ON d.id = r.decision_id
        WHERE d.experiment = $1 AND r.metric = (SELECT name FROM switchboard.experiment_metrics WHERE experiment = $1 AND is_primary)
        GROUP BY d.arm_index
        """

    /// Learned rewards in the order they were stored. Rewards stored before migration 007
    /// have no policy time: they get the time since the experiment's creation at storage.
    static let declareReplayCursor = """
        DECLARE switchboard_replay NO SCROLL CURSOR FOR
        SELECT d.arm_index, d.context::text, d.propensity, r.value,
               coalesce(r.policy_time, extract(epoch FROM r.created_at - e.created_at))
        FROM switchboard.rewards r
        JOIN switchboard.decisions d ON d.id = r.decision_id
        JOIN switchboard.experiments e ON e.key = d.experiment
        WHERE d.experiment = $1 AND r.metric = (SELECT name FROM switchboard.experiment_metrics WHERE experiment = $1 AND is_primary) AND r.learned
        ORDER BY r.created_at, r.decision_id
        """
}
