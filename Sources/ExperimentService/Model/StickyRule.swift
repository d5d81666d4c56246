/// The sticky rule, in one place: a unit of an adaptive experiment keeps the first arm it
/// got while its claim lasts. A returning unit's decision takes the arm it holds, with
/// probability 1 for that arm, and logs the propensity of the unit's first decision (the
/// probability with which that arm was really chosen). A held arm outside the
/// experiment's arms is ignored.
public enum StickyRule {
    /// `decision` as recorded for a unit that holds `held` (nil: a new unit, whose
    /// decision claims the unit for its arm and stays as it is).
    public static func apply(_ held: HeldArm?, to decision: Decision, arms: Int) -> Decision {
        guard let kept = kept(held, arms: arms) else { return decision }
        var recorded = decision
        (recorded.armIndex, recorded.propensity, recorded.probabilities) = kept
        // Output classes came from the chosen arm's model: they are not the held arm's.
        if kept.arm != decision.armIndex { recorded.outputClasses = nil }
        return recorded
    }

    /// What a choice becomes for a unit that holds `held`: its arm, its first propensity,
    /// and a certain choice of that arm; nil when the choice stands (a new unit, or a held
    /// arm the experiment no longer has).
    public static func kept(_ held: HeldArm?, arms: Int) -> (arm: Int, propensity: Double, probabilities: [Double])? {
        guard let held, held.arm < arms else { return nil }
        return (held.arm, held.propensity, certain(held.arm, arms: arms))
    }

    /// The probabilities of a choice that could only be `arm`.
    public static func certain(_ arm: Int, arms: Int) -> [Double] {
        (0..<arms).map { $0 == arm ? 1 : 0 }
    }
}

/// An arm a returning unit holds, with the propensity logged when it was first chosen.
public struct HeldArm: Sendable, Equatable {
    public var arm: Int
    public var propensity: Double
    public init(arm: Int, propensity: Double) {
        self.arm = arm
        self.propensity = propensity
    }
}

/// A decision's claim on its unit (adaptive experiments): the unit is stuck to the
/// decision's arm for `ttlSeconds` unless it holds an arm already (see ``StickyRule``).
/// Travels with the decision to the group commit, which claims a whole batch's units in
/// one round trip before it writes the batch.
public struct StickyClaim: Sendable, Equatable {
    public let ttlSeconds: Int
    /// The experiment's arm count.
    public let arms: Int
    public init(ttlSeconds: Int, arms: Int) {
        self.ttlSeconds = ttlSeconds
        self.arms = arms
    }
}
