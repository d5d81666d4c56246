import Metrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Decisions and rewards in `switchboard.decisions` and `switchboard.rewards`, written by
/// group commit.
///
/// Concurrent callers enqueue their rows and wait; a writer takes everything queued
/// (up to `maxBatch` rows), writes it in one transaction — one binary `COPY` for the
/// decisions and one multi-row `INSERT` for the rewards — and resumes every caller once `COMMIT` returns. So
/// an acknowledged row is durable, and under load one disk flush covers many requests
/// (batches grow by themselves while the previous one commits; `writers` batches may be
/// in flight at once — one by default: two made batches half as large and cost
/// PostgreSQL more CPU per row on a 2-core machine). A batch of decisions alone is one
/// query string in its own transaction. Each caller learns the id of the transaction that
/// stored its row. The queue is bounded:
/// past `maxQueue` rows a caller gets ``ServiceError/overloaded(_:)`` (HTTP 503 with
/// `Retry-After`) instead of an ever-growing backlog.
///
/// Run it as a `Service`; at graceful shutdown it refuses new rows and drains the queue.
public final class PostgresRewardLog: RewardLog, Service, Sendable {
    let database: PostgresDatabase
    let maxBatch: Int
    let maxQueue: Int
    /// How many batches may be in flight at once (one fills while another commits).
    let writers: Int
    private let logger: Logger
    private let state = NIOLockedValueBox(WriterState())
    /// Concurrent decision look-ups share one query.
    let lookups: RequestCoalescer<[UUID], [UUID: Decision]>

    /// Statistics for metrics: batches written and rows in them.
    public struct Statistics: Sendable {
        public var batches = 0
        public var rows = 0
        public var lastBatchRows = 0
        public var queued = 0
    }

    private struct WriterState {
        var queue: [Pending] = []
        var writersWaiting: [CheckedContinuation<Void, Never>] = []
        var shuttingDown = false
        var statistics = Statistics()
    }

    enum Row {
        case decision(Decision)
        case reward(Reward)
    }

    struct Pending {
        var row: Row
        var continuation: CheckedContinuation<(RewardOutcome?, CommitID), any Error>
    }

    public init(database: PostgresDatabase, maxBatch: Int = 2_000, maxQueue: Int = 20_000, writers: Int = 1,
                logger: Logger = Logger(label: "switchboard.reward-log")) {
        self.writers = writers
        self.database = database
        self.maxBatch = maxBatch
        self.maxQueue = maxQueue
        self.logger = logger
        self.lookups = RequestCoalescer(maxBatch: 256) { batches in try await Self.lookUpDecisions(database, batches) }
    }

    public var statistics: Statistics {
        state.withLockedValue { s in
            var stats = s.statistics
            stats.queued = s.queue.count
            return stats
        }
    }

    @discardableResult
    public func record(_ decision: Decision) async throws -> CommitID {
        try await enqueue(.decision(decision)).1
    }

    public func record(_ reward: Reward) async throws -> (outcome: RewardOutcome, commit: CommitID) {
        let (outcome, commit) = try await enqueue(.reward(reward))
        return (outcome ?? .unknownDecision, commit)
    }

    private func enqueue(_ row: Row) async throws -> (RewardOutcome?, CommitID) {
        try await withCheckedThrowingContinuation { continuation in
            let (accepted, writer, refusal): (Bool, CheckedContinuation<Void, Never>?, ServiceError?) = state.withLockedValue { s in
                if s.shuttingDown { return (false, nil, .overloaded("the service is shutting down")) }
                if s.queue.count >= maxQueue {
                    return (false, nil, .overloaded("the write queue holds \(s.queue.count) rows, its limit"))
                }
                s.queue.append(Pending(row: row, continuation: continuation))
                let writer = s.writersWaiting.popLast()
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
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<self.writers {
                        group.addTask {
                            while let batch = await self.nextBatch() { await self.write(batch) }
                        }
                    }
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown()
        }
    }

    private func beginShutdown() {
        let writers = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.shuttingDown = true
            defer { s.writersWaiting = [] }
            return s.writersWaiting
        }
        for writer in writers { writer.resume() }
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
                        s.writersWaiting.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func write(_ batch: [Pending]) async {
        var decisions: [Decision] = []
        var rewards: [RewardRow] = []
        var rewardIndexes: [Int] = []
        for (i, pending) in batch.enumerated() {
            switch pending.row {
            case .decision(let d):
                decisions.append(d)
            case .reward(let r):
                rewards.append(RewardRow(decision_id: r.decisionID.uuidString, metric: r.metric, value: r.value, learned: r.learned,
                                         policy_time: r.policyTime))
                rewardIndexes.append(i)
            }
        }
        let started = ContinuousClock.now
        do {
            let encoder = JSONEncoder()
            let decisionRows = decisions.isEmpty ? nil : Self.decisionRows(decisions)
            let rewardJSON = rewards.isEmpty ? nil : String(decoding: try encoder.encode(rewards), as: UTF8.self)
            let rowsToWrite = rewards
            let (outcomes, commit) = try await database.withConnection { conn in
                // Decisions alone (the assign load): one statement, one round trip, its own transaction.
                if rewardJSON == nil, let decisionRows {
                    return ([RewardOutcome](), try Self.insertDecisionsAlone(decisionRows, conn))
                }
                return try conn.transaction { conn throws(StoreError) -> ([RewardOutcome], CommitID) in
                    let commit = try Self.currentTransaction(conn)
                    if let decisionRows { try conn.copyIn(Self.copyDecisions, data: decisionRows) }
                    guard let rewardJSON else { return ([], commit) }
                    return (try Self.writeRewards(rowsToWrite, json: rewardJSON, conn), commit)
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
                    pending.continuation.resume(returning: (outcomes[next], commit))
                    next += 1
                } else {
                    pending.continuation.resume(returning: (nil, commit))
                }
            }
        } catch {
            logger.error("group commit failed", metadata: ["rows": "\(batch.count)", "error": "\(error)"])
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }
}
