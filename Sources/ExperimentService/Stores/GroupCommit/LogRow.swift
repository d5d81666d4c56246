/// One row for the group commit: a decision (with its unit's claim, for an adaptive
/// experiment; a prediction's carries its output classes), a reward, or the output classes
/// of a prediction whose decision was stored before its model inferred (a returning unit
/// holding another arm than the policy chose).
public enum LogRow: Sendable {
    case decision(Decision, StickyClaim?)
    case reward(Reward)
    case classes(DecisionClasses)
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
