import Foundation

/// One row for the group commit: a decision (with its unit's claim, for an adaptive
/// experiment), a reward, or the output classes of a decision stored without them (a
/// returning unit's prediction, whose held arm's model inferred after the decision was
/// stored).
public enum LogRow: Sendable {
    case decision(Decision, StickyClaim?)
    case reward(Reward)
    case outputClasses(decision: UUID, classes: [Int64])
}

/// What the group commit reports for a row once its batch has committed.
public struct Written: Sendable {
    /// The transaction that stored the row.
    public var commit: CommitID
    /// A decision as stored (a returning unit's carries its held arm, ``StickyRule``).
    public var decision: Decision?
    /// A reward's outcome.
    public var outcome: RewardOutcome?

    public init(commit: CommitID, decision: Decision? = nil, outcome: RewardOutcome? = nil) {
        self.commit = commit
        self.decision = decision
        self.outcome = outcome
    }
}
