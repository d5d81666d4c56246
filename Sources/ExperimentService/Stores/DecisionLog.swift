import Foundation

/// The record of decisions and rewards, as read back. (Rows are written only by the
/// ``GroupCommit``, through the log's ``BatchWriter``.)
public protocol DecisionLog: Sendable {
    /// The decisions with these ids (missing ones are absent), in one query.
    func decisions(ids: [UUID]) async throws -> [UUID: Decision]
    /// The id of the latest decision for `unit` in `experiment`, if any.
    func latestDecision(experiment: String, unit: String) async throws -> UUID?
    /// Gives every decision of `experiment` whose reward window ended without a reward the
    /// default `value`, at most `limit` at a time, and returns them; replicas may run this
    /// concurrently and each decision is defaulted once. Defaults of decisions made by
    /// `policy` (name@version) are marked learned.
    func recordDefaultRewards(experiment: String, windowSeconds: Int, value: Double, policy: String,
                              limit: Int) async throws -> [DefaultedDecision]
    /// Folds every learned reward of `experiment` (in commit order, then decision id) into
    /// `initial` and counts decisions and rewards per arm, in one consistent snapshot.
    func replay<Result: Sendable>(experiment: String, armCount: Int, initial: Result,
                                  fold: @escaping @Sendable (inout Result, LearnedReward) throws -> Void) async throws -> Replay<Result>
    /// The counts that the statistics store's counters of `experiment` must match (see ``LearningReconciler``).
    func learningCounts(experiment: String, settled: Duration) async throws -> LearningCounts
    /// Throws if the record cannot be reached.
    func ping() async throws
    /// Writes group-commit batches (one connection, used by the group commit's thread only).
    func makeBatchWriter() -> any BatchWriter
}

/// A decision that just got its experiment's default reward.
public struct DefaultedDecision: Sendable {
    public var decision: Decision
    /// Whether the policy learns from the default (it made the decision).
    public var learned: Bool
    /// The policy time stored with the default reward.
    public var policyTime: Double
    /// The transaction that stored it.
    public var commit: CommitID

    public init(decision: Decision, learned: Bool, policyTime: Double, commit: CommitID) {
        (self.decision, self.learned, self.policyTime, self.commit) = (decision, learned, policyTime, commit)
    }
}

/// One learned reward with what its update was called with.
public struct LearnedReward: Sendable {
    public var arm: Int
    public var context: [String: Double]?
    public var propensity: Double
    public var value: Double
    /// Seconds since the experiment was created, as given to the update.
    public var policyTime: Double

    public init(arm: Int, context: [String: Double]?, propensity: Double, value: Double, policyTime: Double) {
        (self.arm, self.context, self.propensity, self.value, self.policyTime) = (arm, context, propensity, value, policyTime)
    }
}

/// What one consistent read of an experiment found.
public struct Replay<Result: Sendable>: Sendable {
    /// The snapshot the read saw: exactly the commits it counted.
    public var snapshot: DatabaseSnapshot
    /// The fold's result over every learned reward.
    public var result: Result
    /// How many learned rewards were folded.
    public var learnedRewards: Int
    /// Decisions and `reward`-metric rewards per arm (`armCount` entries).
    public var counters: [ArmCounters]

    public init(snapshot: DatabaseSnapshot, result: Result, learnedRewards: Int, counters: [ArmCounters]) {
        (self.snapshot, self.result, self.learnedRewards, self.counters) = (snapshot, result, learnedRewards, counters)
    }
}

/// What the record holds for an experiment: decisions and `reward`-metric rewards, all of
/// them and those stored before `settled` ago (which every live replica has flushed).
public struct LearningCounts: Sendable, Equatable {
    public var decisions: Int64, settledDecisions: Int64
    public var rewards: Int64, settledRewards: Int64

    public init(decisions: Int64, settledDecisions: Int64, rewards: Int64, settledRewards: Int64) {
        (self.decisions, self.settledDecisions, self.rewards, self.settledRewards) = (decisions, settledDecisions, rewards, settledRewards)
    }
}
