import Metrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Decisions and rewards in `switchboard.decisions` and `switchboard.rewards`, written by
/// group commit.
///
/// Concurrent callers enqueue their rows and wait; one writer takes everything queued
/// (up to `maxBatch` rows), writes it in one transaction — one multi-row `INSERT` for the
/// decisions and one for the rewards — and resumes every caller once `COMMIT` returns. So
/// an acknowledged row is durable, and under load one disk flush covers many requests
/// (batches grow by themselves while the previous one commits). The queue is bounded:
/// past `maxQueue` rows a caller gets ``ServiceError/overloaded(_:)`` (HTTP 503 with
/// `Retry-After`) instead of an ever-growing backlog.
///
/// Run it as a `Service`; at graceful shutdown it refuses new rows and drains the queue.
public final class PostgresRewardLog: RewardLog, Service, Sendable {
    let database: PostgresDatabase
    let maxBatch: Int
    let maxQueue: Int
    private let logger: Logger
    private let state = NIOLockedValueBox(WriterState())

    /// Statistics for metrics: batches written and rows in them.
    public struct Statistics: Sendable {
        public var batches = 0
        public var rows = 0
        public var lastBatchRows = 0
        public var queued = 0
    }

    private struct WriterState {
        var queue: [Pending] = []
        var writerWaiting: CheckedContinuation<Void, Never>?
        var shuttingDown = false
        var statistics = Statistics()
    }

    private enum Row {
        case decision(Decision)
        case reward(Reward)
    }

    private struct Pending {
        var row: Row
        var continuation: CheckedContinuation<RewardOutcome?, any Error>
    }

    public init(database: PostgresDatabase, maxBatch: Int = 2_000, maxQueue: Int = 20_000, logger: Logger = Logger(label: "switchboard.reward-log")) {
        self.database = database
        self.maxBatch = maxBatch
        self.maxQueue = maxQueue
        self.logger = logger
    }

    public var statistics: Statistics {
        state.withLockedValue { s in
            var stats = s.statistics
            stats.queued = s.queue.count
            return stats
        }
    }

    public func record(_ decision: Decision) async throws {
        _ = try await enqueue(.decision(decision))
    }

    public func record(_ reward: Reward) async throws -> RewardOutcome {
        try await enqueue(.reward(reward)) ?? .unknownDecision
    }

    private func enqueue(_ row: Row) async throws -> RewardOutcome? {
        try await withCheckedThrowingContinuation { continuation in
            let (accepted, writer, refusal): (Bool, CheckedContinuation<Void, Never>?, ServiceError?) = state.withLockedValue { s in
                if s.shuttingDown { return (false, nil, .overloaded("the service is shutting down")) }
                if s.queue.count >= maxQueue {
                    return (false, nil, .overloaded("the write queue holds \(s.queue.count) rows, its limit"))
                }
                s.queue.append(Pending(row: row, continuation: continuation))
                let writer = s.writerWaiting
                s.writerWaiting = nil
                return (true, writer, nil)
            }
            if !accepted { continuation.resume(throwing: refusal!) }
            writer?.resume()
        }
    }

    /// The writer loop: one transaction per batch until graceful shutdown or cancellation,
    /// then drains the queue (rows already accepted are still written).
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let batch = await nextBatch() {
                    await write(batch)
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown()
        }
    }

    private func beginShutdown() {
        let writer = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            s.shuttingDown = true
            defer { s.writerWaiting = nil }
            return s.writerWaiting
        }
        writer?.resume()
    }

    /// The next batch, waiting for rows; nil once shut down and drained.
    private func nextBatch() async -> [Pending]? {
        while true {
            enum Step { case batch([Pending]), finished, wait }
            let step: Step = state.withLockedValue { s in
                if !s.queue.isEmpty {
                    let count = min(maxBatch, s.queue.count)
                    let batch = Array(s.queue.prefix(count))
                    s.queue.removeFirst(count)
                    return .batch(batch)
                }
                return s.shuttingDown ? .finished : .wait
            }
            switch step {
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLockedValue { s -> Bool in
                        if !s.queue.isEmpty || s.shuttingDown { return true }
                        s.writerWaiting = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func write(_ batch: [Pending]) async {
        var decisions: [DecisionRow] = []
        var rewards: [RewardRow] = []
        var rewardIndexes: [Int] = []
        for (i, pending) in batch.enumerated() {
            switch pending.row {
            case .decision(let d):
                decisions.append(DecisionRow(d))
            case .reward(let r):
                rewards.append(RewardRow(decision_id: r.decisionID.uuidString, metric: r.metric, value: r.value, learned: r.learned))
                rewardIndexes.append(i)
            }
        }
        let started = ContinuousClock.now
        do {
            let encoder = JSONEncoder()
            let decisionJSON = decisions.isEmpty ? nil : String(decoding: try encoder.encode(decisions), as: UTF8.self)
            let rewardJSON = rewards.isEmpty ? nil : String(decoding: try encoder.encode(rewards), as: UTF8.self)
            let rowsToWrite = rewards
            let outcomes = try await database.withConnection { conn in
                try conn.transaction { conn throws(StoreError) -> [RewardOutcome] in
                    if let decisionJSON { try conn.query(Self.insertDecisions, [decisionJSON]) }
                    guard let rewardJSON else { return [] }
                    return try Self.writeRewards(rowsToWrite, json: rewardJSON, conn)
                }
            }
            Recorder(label: MetricNames.groupCommitRows, aggregate: true).record(batch.count)
            Metrics.Timer(label: MetricNames.groupCommitSeconds).record(duration: ContinuousClock.now - started)
            state.withLockedValue { s in
                s.statistics.batches += 1
                s.statistics.rows += batch.count
                s.statistics.lastBatchRows = batch.count
            }
            var next = 0
            for (i, pending) in batch.enumerated() {
                if next < rewardIndexes.count, rewardIndexes[next] == i {
                    pending.continuation.resume(returning: outcomes[next])
                    next += 1
                } else {
                    pending.continuation.resume(returning: nil)
                }
            }
        } catch {
            logger.error("group commit failed", metadata: ["rows": "\(batch.count)", "error": "\(error)"])
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }

    private struct DecisionRow: Encodable {
        var id: String, experiment: String, arm_index: Int, unit: String, propensity: Double
        var context: [String: Double]?, policy: String, seed: Int64, probabilities: [Double]?
        init(_ d: Decision) {
            probabilities = d.probabilities
            id = d.id.uuidString
            experiment = d.experiment
            arm_index = d.armIndex
            unit = d.unit
            propensity = d.propensity
            context = d.context
            policy = d.policy
            seed = Int64(bitPattern: d.seed)
        }
    }

    struct RewardRow: Encodable {
        var decision_id: String, metric: String, value: Double, learned: Bool
    }

    static let insertDecisions = """
        INSERT INTO switchboard.decisions (id, experiment, arm_index, unit, propensity, context, policy, seed, probabilities)
        SELECT id, experiment, arm_index, unit, propensity, context, policy, seed, probabilities
        FROM jsonb_to_recordset($1::jsonb)
             AS t(id uuid, experiment text, arm_index integer, unit text, propensity float8, context jsonb, policy text, seed bigint,
                  probabilities float8[])
        """

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
        INSERT INTO switchboard.rewards (decision_id, metric, value, learned)
        SELECT decision_id, metric, value, learned FROM jsonb_to_recordset($1::jsonb) AS t(decision_id uuid, metric text, value float8, learned boolean)
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

    public func decision(id: UUID) async throws -> Decision? {
        try await decisions(ids: [id])[id]
    }

    /// Several decisions in one query.
    public func decisions(ids: [UUID]) async throws -> [UUID: Decision] {
        guard !ids.isEmpty else { return [:] }
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

    /// Gives every decision of `experiment` whose reward window ended without a `reward`
    /// the default value (source 'default'), at most `limit` at a time, and returns those
    /// decisions. Replicas may run this concurrently: each decision is defaulted by exactly
    /// one of them (the one whose insert wins). Looks back one day past the window.
    /// `policy` (name@version) marks which defaults are learned from: those of decisions the
    /// policy made.
    public func recordDefaultRewards(experiment: String, windowSeconds: Int, value: Double, policy: String,
                                     limit: Int = 1_000) async throws -> [Decision] {
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
                ins AS (
                    INSERT INTO switchboard.rewards (decision_id, metric, value, source, learned)
                    SELECT id, 'reward', $3::float8, 'default', policy = $5 FROM due
                    ON CONFLICT (decision_id, metric) DO NOTHING
                    RETURNING decision_id)
                SELECT decision_id FROM ins
                """, [experiment, String(windowSeconds), String(value), String(limit), policy])
        }
        let ids = rows.rows.compactMap { $0[0].flatMap(UUID.init(uuidString:)) }
        return Array(try await decisions(ids: ids).values)
    }

    public func ping() async throws {
        try await database.withConnection { conn in _ = try conn.query("SELECT 1") }
    }
}
