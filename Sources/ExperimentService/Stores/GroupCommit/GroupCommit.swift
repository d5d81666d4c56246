import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The group commit: the one way decisions and rewards reach the decision log.
///
/// Concurrent callers queue their rows and wait; a writer thread (a ``ThreadCoalescer``)
/// takes everything queued (up to `maxBatch` rows) as one ``GroupCommitBatch``: it claims
/// the batch's sticky units in one round trip (``StickyClaimStep``), writes the rows in one
/// transaction (``BatchWriter``) and resumes every caller once `COMMIT` returns, with the
/// id of that transaction. So an acknowledged row is durable, and under load one disk
/// flush covers many requests (batches grow by themselves while the previous one commits;
/// one writer: two made batches half as large and cost PostgreSQL more CPU per row on a
/// 2-core machine). The queue is bounded: past `maxQueue` rows a caller gets
/// ``ServiceError/overloaded(_:)`` (HTTP 503 with `Retry-After`).
///
/// Run it as a `Service` (rows queue until it runs); at graceful shutdown it refuses new
/// rows and drains the queue.
public final class GroupCommit: Service, Sendable {
    private let queue: ThreadCoalescer<LogRow, Written>
    private let counts: NIOLockedValueBox<Statistics>
    private let logger: Logger

    /// Batches written and rows in them, for metrics.
    public struct Statistics: Sendable {
        public var batches = 0
        public var rows = 0
        /// Rows waiting now.
        public var queued = 0
    }

    /// - Parameters:
    ///   - log: the decision log whose ``BatchWriter`` writes the batches.
    ///   - units: where sticky decisions claim their units.
    public init(log: any DecisionLog, units: any StickyUnits, maxBatch: Int = 2_000, maxQueue: Int = 20_000,
                logger: Logger = Logger(label: "switchboard.group-commit")) {
        let counts = NIOLockedValueBox(Statistics())
        let batch = GroupCommitBatch(writer: log.makeBatchWriter(), units: units, counts: counts, logger: logger)
        self.counts = counts
        self.logger = logger
        self.queue = ThreadCoalescer(name: "group-commit", maxBatch: maxBatch, maxQueue: maxQueue) { rows in batch.write(rows) }
    }

    public var statistics: Statistics {
        var stats = counts.withLockedValue { $0 }
        stats.queued = queue.queued
        return stats
    }

    /// Records a decision (claiming its unit first, with a `claim`); returns it as stored
    /// (a returning unit's with the arm it holds) and its transaction, once committed.
    public func record(_ decision: Decision, claim: StickyClaim?) async throws -> (decision: Decision, commit: CommitID) {
        let written: Written
        do { written = try await queue.submit(.decision(decision, claim)) } catch let refusal as ThreadCoalescer<LogRow, Written>.Refusal {
            throw Self.overloaded(refusal)
        }
        return (written.decision ?? decision, written.commit)
    }

    /// Queues the output classes of a prediction whose decision is stored already
    /// (``LogRow/classes(_:)``) and returns at once: they are written with the next batch
    /// (or, at graceful shutdown, with the drained queue). A full queue or a failed batch
    /// drops them, with a warning: they count in no class distribution.
    public func post(_ classes: DecisionClasses) {
        let logger = self.logger
        let refusal = queue.post(.classes(classes)) { result in
            if case .failure(let error) = result {
                logger.warning("a prediction's output classes were not written", metadata: ["decision": "\(classes.decisionID)", "error": "\(error)"])
            }
        }
        if let refusal {
            logger.warning("a prediction's output classes were not queued", metadata: ["decision": "\(classes.decisionID)", "error": "\(refusal)"])
        }
    }

    /// Records rewards together (in as few batches as they fit); one result per reward,
    /// in order, each once its batch committed.
    public func record(_ rewards: [Reward]) async -> [Result<(outcome: RewardOutcome, commit: CommitID), any Error>] {
        await queue.submitAll(rewards.map { .reward($0) }).map { result in
            switch result {
            case .success(let written):
                guard let outcome = written.outcome else {
                    return .failure(StoreError(.unexpectedReply, store: .postgres, message: "the batch writer gave a reward no outcome"))
                }
                return .success((outcome, written.commit))
            case .failure(let refusal as ThreadCoalescer<LogRow, Written>.Refusal):
                return .failure(Self.overloaded(refusal))
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    private static func overloaded(_ refusal: ThreadCoalescer<LogRow, Written>.Refusal) -> ServiceError {
        switch refusal {
        case .stopped: .overloaded("the service is shutting down")
        case .full(let queued): .overloaded("the write queue holds \(queued) rows, its limit")
        }
    }

    /// Writes until graceful shutdown or cancellation, then drains the queue (rows already
    /// accepted are still written) and returns once the writer has ended.
    public func run() async throws {
        queue.start()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await queue.finished()
            } onGracefulShutdown: {
                self.queue.stop()
            }
        } onCancel: {
            self.queue.stop()
        }
    }
}
