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
    private let state = WriterQueue()
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
        var shuttingDown = false
        var statistics = Statistics()
    }

    /// The queue and the condition writer threads wait on.
    private final class WriterQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var state = WriterState()   // guarded by `condition`

        func withLockedValue<T>(_ body: (inout WriterState) -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body(&state)
        }

        /// Wakes one waiting writer.
        func signal() { condition.signal() }
        func broadcast() { condition.broadcast() }

        /// Blocks until `take` returns a value (checked whenever rows arrive or shutdown begins).
        func wait<T>(until take: (inout WriterState) -> T?) -> T {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let value = take(&state) { return value }
                condition.wait()
            }
        }
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
            let refusal: ServiceError? = state.withLockedValue { s in
                if s.shuttingDown { return .overloaded("the service is shutting down") }
                if s.queue.count >= maxQueue {
                    return .overloaded("the write queue holds \(s.queue.count) rows, its limit")
                }
                s.queue.append(Pending(row: row, continuation: continuation))
                state.signal()
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) }
        }
    }

    /// The writers: `writers` threads of their own, each with its own connection, writing
    /// one transaction per batch until graceful shutdown or cancellation, then draining the
    /// queue (rows already accepted are still written). Threads of their own, not tasks on
    /// a thread pool: a batch goes from the queue to PostgreSQL and its callers are resumed
    /// without waiting to be scheduled on another thread on the way.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for n in 0..<self.writers {
                        group.addTask {
                            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                                let thread = Thread {
                                    let connection = PostgresConnection(url: self.database.url)
                                    while let batch = self.nextBatch() { self.write(batch, connection) }
                                    connection.close()
                                    finished.resume()
                                }
                                thread.name = "group-commit-\(n)"
                                thread.start()
                            }
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
        state.withLockedValue { $0.shuttingDown = true }
        state.broadcast()
    }

    /// The next batch, waiting for rows; nil once shut down and drained.
    private func nextBatch() -> [Pending]? {
        state.wait { s -> [Pending]?? in
            if !s.queue.isEmpty {
                let count = min(maxBatch, s.queue.count)
                let batch = Array(s.queue.prefix(count))
                s.queue.removeFirst(count)
                return .some(batch)
            }
            return s.shuttingDown ? .some(nil) : nil
        }
    }

    private func write(_ batch: [Pending], _ conn: PostgresConnection) {
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
            let (outcomes, commit) = try { () throws(StoreError) -> ([RewardOutcome], CommitID) in
                // Decisions alone (the assign load): one query string, its own transaction.
                if rewardJSON == nil, let decisionRows {
                    return ([RewardOutcome](), try Self.insertDecisionsAlone(decisionRows, conn))
                }
                return try conn.transaction { conn throws(StoreError) -> ([RewardOutcome], CommitID) in
                    let commit = try Self.currentTransaction(conn)
                    if let decisionRows { try conn.copyIn(Self.copyDecisions, data: decisionRows) }
                    guard let rewardJSON else { return ([], commit) }
                    return (try Self.writeRewards(rowsToWrite, json: rewardJSON, conn), commit)
                }
            }()
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
