import Metrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Decisions and rewards in `switchboard.decisions` and `switchboard.rewards`, written by
/// group commit.
///
/// Concurrent callers queue their rows and wait; a writer thread with its own connection
/// (a ``ThreadCoalescer``) takes everything queued (up to `maxBatch` rows), writes it in
/// one transaction — one binary `COPY` for the decisions and one multi-row `INSERT` for
/// the rewards — and resumes every caller once `COMMIT` returns. So an acknowledged row is
/// durable, and under load one disk flush covers many requests (batches grow by
/// themselves while the previous one commits; one writer: two made batches half as large
/// and cost PostgreSQL more CPU per row on a 2-core machine). A batch of decisions alone
/// is one query string in its own transaction. Each caller learns the id of the
/// transaction that stored its row. The queue is bounded: past `maxQueue` rows a caller
/// gets ``ServiceError/overloaded(_:)`` (HTTP 503 with `Retry-After`) instead of an
/// ever-growing backlog.
///
/// Run it as a `Service` (rows queue until it runs); at graceful shutdown it refuses new
/// rows and drains the queue.
public final class PostgresDecisionLog: DecisionLog, Service, Sendable {
    let database: PostgresDatabase
    private let writer: ThreadCoalescer<Row, Written>
    private let counts = NIOLockedValueBox(Statistics())
    /// Concurrent decision look-ups share one query.
    let lookups: RequestCoalescer<[UUID], [UUID: Decision]>

    /// Statistics for metrics: batches written and rows in them.
    public struct Statistics: Sendable {
        public var batches = 0
        public var rows = 0
        public var lastBatchRows = 0
        public var queued = 0
    }

    enum Row {
        /// A decision, and for an adaptive experiment the claim on its unit.
        case decision(Decision, StickyClaim?)
        case reward(Reward)
    }

    /// What the writer reports for a row once its batch has committed.
    struct Written: Sendable {
        var commit: CommitID
        /// A reward's outcome.
        var outcome: RewardOutcome?
        /// A decision as stored (a returning unit's carries its held arm).
        var decision: Decision?
    }

    public init(database: PostgresDatabase, maxBatch: Int = 2_000, maxQueue: Int = 20_000,
                logger: Logger = Logger(label: "switchboard.decision-log")) {
        self.database = database
        self.lookups = RequestCoalescer(maxBatch: 256) { batches in try await Self.lookUpDecisions(database, batches) }
        let connection = PostgresConnection(url: database.url)
        let counts = self.counts
        self.writer = ThreadCoalescer(name: "group-commit", maxBatch: maxBatch, maxQueue: maxQueue) { rows in
            Self.write(rows, connection, counts: counts, logger: logger)
        }
    }

    public var statistics: Statistics {
        var stats = counts.withLockedValue { $0 }
        stats.queued = writer.queued
        return stats
    }

    @discardableResult
    public func record(_ decision: Decision) async throws -> CommitID {
        try await enqueue(.decision(decision, nil)).commit
    }

    public func record(_ decision: Decision, sticky: StickyClaim) async throws -> (decision: Decision, commit: CommitID) {
        let written = try await enqueue(.decision(decision, sticky))
        return (written.decision ?? decision, written.commit)
    }

    public func record(_ reward: Reward) async throws -> (outcome: RewardOutcome, commit: CommitID) {
        let written = try await enqueue(.reward(reward))
        return (written.outcome ?? .unknownDecision, written.commit)
    }

    private func enqueue(_ row: Row) async throws -> Written {
        do { return try await writer.submit(row) } catch let refusal as ThreadCoalescer<Row, Written>.Refusal {
            switch refusal {
            case .stopped: throw ServiceError.overloaded("the service is shutting down")
            case .full(let queued): throw ServiceError.overloaded("the write queue holds \(queued) rows, its limit")
            }
        }
    }

    /// Writes until graceful shutdown or cancellation, then drains the queue (rows already
    /// accepted are still written) and returns once the writer has ended.
    public func run() async throws {
        writer.start()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await writer.finished()
            } onGracefulShutdown: {
                self.writer.stop()
            }
        } onCancel: {
            self.writer.stop()
        }
    }

    /// One batch in one transaction; one result per row, in order. Sticky decisions first
    /// claim their units in Redis (``claimUnits(_:)``); one whose claim failed is not written.
    /// If PostgreSQL refuses the batch for its content (a row the checks before queueing
    /// missed), its rows are written again one by one, so only the bad row fails.
    private static func write(_ batch: [Row], _ conn: PostgresConnection, counts: NIOLockedValueBox<Statistics>,
                              logger: Logger) -> [Result<Written, any Error>] {
        var batch = batch
        let failed = claimUnits(&batch)
        var results: [Result<Written, any Error>?] = batch.indices.map { i in failed[i].map { .failure($0) } }
        let rows = batch.indices.filter { failed[$0] == nil }
        guard !rows.isEmpty else { return results.map { $0! } }
        let started = ContinuousClock.now
        switch commit(rows.map { batch[$0] }, conn) {
        case .success(let written):
            for (i, w) in zip(rows, written) { results[i] = .success(w) }
        case .failure(let error) where error.code == .serverError && rows.count > 1:
            logger.warning("group commit refused; writing its rows one by one", metadata: ["rows": "\(rows.count)", "error": "\(error)"])
            for i in rows {
                results[i] = commit([batch[i]], conn).map { $0[0] }.mapError { $0 }
                if case .failure(let e) = results[i] { logger.error("a row was refused", metadata: ["error": "\(e)"]) }
            }
        case .failure(let error):
            logger.error("group commit failed", metadata: ["rows": "\(batch.count)", "error": "\(error)"])
            for i in rows { results[i] = .failure(error) }
        }
        Recorder(label: MetricNames.groupCommitRows, aggregate: true).record(batch.count)
        Metrics.Timer(label: MetricNames.groupCommitSeconds).record(duration: ContinuousClock.now - started)
        counts.withLockedValue { s in
            s.batches += 1
            s.rows += batch.count
            s.lastBatchRows = batch.count
        }
        return results.map { $0! }
    }

    /// Writes `rows` (claimed already) in one transaction; one result per row, in order.
    private static func commit(_ rows: [Row], _ conn: PostgresConnection) -> Result<[Written], StoreError> {
        var decisions: [Decision] = []
        var rewards: [RewardRow] = []
        for row in rows {
            switch row {
            case .decision(let d, _):
                decisions.append(d)
            case .reward(let r):
                rewards.append(RewardRow(decision_id: r.decisionID.uuidString, metric: r.metric, value: r.value, learned: r.learned,
                                         policy_time: r.policyTime))
            }
        }
        do throws(StoreError) {
            let decisionRows = decisions.isEmpty ? nil : Self.decisionRows(decisions)
            let rewardJSON: String?
            do {
                rewardJSON = rewards.isEmpty ? nil : String(decoding: try JSONEncoder().encode(rewards), as: UTF8.self)
            } catch {
                throw StoreError(.serverError, store: .postgres, message: "cannot encode rewards: \(error)")
            }
            let (outcomes, commit): ([RewardOutcome], CommitID)
            if rewardJSON == nil, let decisionRows {
                // Decisions alone (the assign load): one query string, its own transaction.
                (outcomes, commit) = ([], try Self.insertDecisionsAlone(decisionRows, conn))
            } else {
                (outcomes, commit) = try conn.transaction { conn throws(StoreError) -> ([RewardOutcome], CommitID) in
                    let commit = try Self.currentTransaction(conn)
                    if let decisionRows { try conn.copyIn(Self.copyDecisions, data: decisionRows) }
                    guard let rewardJSON else { return ([], commit) }
                    return (try Self.writeRewards(rewards, json: rewardJSON, conn), commit)
                }
            }
            var nextOutcome = outcomes.makeIterator()
            return .success(rows.map { row in
                switch row {
                case .decision(let d, _): Written(commit: commit, decision: d)
                case .reward: Written(commit: commit, outcome: nextOutcome.next())
                }
            })
        } catch {
            return .failure(error)
        }
    }

    /// Claims the units of a batch's sticky decisions in Redis, one pipeline per Redis
    /// (normally one), and gives each returning unit's decision the arm it holds. Returns
    /// the rows whose claim failed (by index) with the error their callers get; the rest
    /// of the batch is written as usual.
    static func claimUnits(_ batch: inout [Row]) -> [Int: any Error] {
        var groups: [ObjectIdentifier: (store: RedisStickiness, rows: [Int])] = [:]
        for (i, row) in batch.enumerated() {
            if case .decision(_, let claim?) = row { groups[ObjectIdentifier(claim.store), default: (claim.store, [])].rows.append(i) }
        }
        var failed: [Int: any Error] = [:]
        for (store, rows) in groups.values {
            let claims = rows.map { i -> (decision: Decision, claim: StickyClaim) in
                guard case .decision(let d, let claim?) = batch[i] else { preconditionFailure("grouped rows are sticky decisions") }
                return (d, claim)
            }
            do {
                let held = try store.claim(claims.map { ($0.decision, $0.claim.ttlSeconds) })
                for ((i, item), held) in zip(zip(rows, claims), held) {
                    guard let held, held.arm < item.claim.arms else { continue }
                    batch[i] = .decision(item.decision.keeping(held, arms: item.claim.arms), item.claim)
                }
            } catch {
                for i in rows { failed[i] = error }
            }
        }
        return failed
    }
}
