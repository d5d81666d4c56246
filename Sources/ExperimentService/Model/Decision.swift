import Foundation

/// One assignment: which arm a unit got, with what probability, under which policy.
public struct Decision: Sendable, Equatable {
    public var id: UUID
    public var experiment: String
    public var armIndex: Int
    public var unit: String
    public var propensity: Double
    public var context: [String: Double]?
    /// `name@version` of the policy that decided.
    public var policy: String
    /// The seed the policy was called with: the same seed and state give the same choice.
    public var seed: UInt64
    /// Every arm's probability at decision time (for sample-ratio checks and offline evaluation).
    public var probabilities: [Double]? = nil
    /// The experiment's phase when it was made.
    public var phase: Int = 1
    /// For a prediction: the classes the arm's model output (``OutputClasses``), nil when
    /// none were read or the decision is an assignment.
    public var outputClasses: [Int64]? = nil
}

/// A reward posted for a decision, with the decision's experiment and arm.
public struct Reward: Sendable, Equatable {
    public var decisionID: UUID
    public var experiment: String
    public var armIndex: Int
    /// The decision's phase.
    public var phase: Int
    public var metric: String
    public var value: Double
    /// Whether the policy learns from it (recorded with the reward).
    public var learned: Bool = false
    /// The `time` argument the policy's update was called with (seconds since the
    /// experiment was created), stored so a rebuild replays the same update.
    public var policyTime: Double? = nil

    /// A reward for `decision`.
    public init(for decision: Decision, metric: String, value: Double, learned: Bool = false, policyTime: Double? = nil) {
        self.decisionID = decision.id
        self.experiment = decision.experiment
        self.armIndex = decision.armIndex
        self.phase = decision.phase
        self.metric = metric
        self.value = value
        self.learned = learned
        self.policyTime = policyTime
    }
}

/// What happened to a reward handed to the group commit.
public enum RewardOutcome: Sendable, Equatable {
    /// Stored now, for the first time.
    case recorded
    /// The same value was already stored for this decision and metric; nothing changed.
    case duplicate
    /// A different value is already stored for this decision and metric.
    case conflict(existing: Double)
}

/// Live per-arm counters, as kept in Redis.
public struct ArmCounters: Sendable, Equatable {
    public var assignments: Int64 = 0
    public var rewards: Int64 = 0
    public var rewardSum: Double = 0
    public init(assignments: Int64 = 0, rewards: Int64 = 0, rewardSum: Double = 0) {
        self.assignments = assignments
        self.rewards = rewards
        self.rewardSum = rewardSum
    }
}
