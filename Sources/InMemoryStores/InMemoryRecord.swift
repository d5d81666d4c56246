import ExperimentService
import Foundation

/// The decision log's rows in memory, with PostgreSQL's rules: one transaction id per
/// batch, all or nothing, the checks of the schema (a propensity in (0, 1], no NUL in a
/// unit, a reward only for a recorded decision, one reward per decision and metric).
final class InMemoryRecord: @unchecked Sendable {
    struct StoredDecision {
        var decision: Decision
        var commit: CommitID
        var at: Date
    }

    struct StoredReward {
        var reward: Reward
        var commit: CommitID
        var at: Date
    }

    struct RewardKey: Hashable {
        var decision: UUID
        var metric: String
    }

    private let lock = NSLock()
    private var decisions: [UUID: StoredDecision] = [:]
    private var decisionOrder: [UUID] = []
    private var rewards: [RewardKey: StoredReward] = [:]
    private var rewardOrder: [RewardKey] = []
    private var classes: [UUID: DecisionClasses] = [:]
    private var lastCommit: UInt64 = 0

    /// Runs `body` under the lock, as one transaction with a new id.
    func transaction<T, E: Error>(_ body: (inout Transaction) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        lastCommit += 1
        var t = Transaction(record: self, commit: CommitID(lastCommit), at: Date())
        let result = try body(&t)  // nothing is applied unless the body succeeds: all or nothing
        for d in t.newDecisions {
            decisions[d.decision.id] = d
            decisionOrder.append(d.decision.id)
        }
        for c in t.newClasses where classes[c.decisionID] == nil { classes[c.decisionID] = c }
        for r in t.newRewards {
            let key = RewardKey(decision: r.reward.decisionID, metric: r.reward.metric)
            rewards[key] = r
            rewardOrder.append(key)
        }
        return result
    }

    /// Reads under the lock; `snapshot` sees every commit so far.
    func read<T>(_ body: (Snapshot) throws -> T) rethrows -> T {
        try lock.withLock {
            let next = lastCommit + 1
            return try body(Snapshot(
                snapshot: DatabaseSnapshot(xmin: next, xmax: next),
                decisions: decisionOrder.compactMap { decisions[$0] },
                rewards: rewardOrder.compactMap { rewards[$0] },
                decisionsByID: decisions, rewardsByKey: rewards, classes: Array(classes.values)))
        }
    }

    /// What a transaction adds, checked against the record and itself.
    struct Transaction {
        fileprivate let record: InMemoryRecord
        let commit: CommitID
        let at: Date
        fileprivate(set) var newDecisions: [StoredDecision] = []
        fileprivate(set) var newRewards: [StoredReward] = []
        fileprivate(set) var newClasses: [DecisionClasses] = []

        func decision(_ id: UUID) -> Decision? {
            record.decisions[id]?.decision ?? newDecisions.first { $0.decision.id == id }?.decision
        }

        func reward(_ key: RewardKey) -> Reward? {
            record.rewards[key]?.reward ?? newRewards.first { RewardKey(decision: $0.reward.decisionID, metric: $0.reward.metric) == key }?.reward
        }

        mutating func insert(_ d: Decision) throws(StoreError) {
            guard d.propensity > 0, d.propensity <= 1 else {
                throw StoreError(.serverError, store: .postgres, message: "new row violates check constraint on propensity", sqlState: "23514")
            }
            guard !d.unit.utf8.contains(0), !d.experiment.utf8.contains(0) else {
                throw StoreError(.serverError, store: .postgres, message: "invalid byte sequence: 0x00", sqlState: "22021")
            }
            guard decision(d.id) == nil else {
                throw StoreError(.serverError, store: .postgres, message: "duplicate key value violates unique constraint", sqlState: "23505")
            }
            newDecisions.append(StoredDecision(decision: d, commit: commit, at: at))
        }

        /// A prediction's output classes (`switchboard.decision_classes`; the first for a decision stands).
        mutating func insert(_ c: DecisionClasses) {
            newClasses.append(c)
        }

        mutating func insert(_ r: Reward) throws(StoreError) {
            guard decision(r.decisionID) != nil else {
                throw StoreError(.serverError, store: .postgres, message: "insert violates foreign key constraint on decision_id", sqlState: "23503")
            }
            newRewards.append(StoredReward(reward: r, commit: commit, at: at))
        }
    }

    /// A consistent read of the record.
    struct Snapshot {
        var snapshot: DatabaseSnapshot
        /// In the order they were stored.
        var decisions: [StoredDecision]
        var rewards: [StoredReward]
        var decisionsByID: [UUID: StoredDecision]
        var rewardsByKey: [RewardKey: StoredReward]
        /// Predictions' output classes, in no order.
        var classes: [DecisionClasses]
    }
}
