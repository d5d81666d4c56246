/// The sticky rule, in one place: a unit of an adaptive experiment keeps the first arm it
/// got while its claim lasts. A returning unit's decision takes the arm it holds, with
/// probability 1 for that arm, and logs the propensity of the unit's first decision (the
/// probability with which that arm was really chosen). A held arm outside the
/// experiment's arms is ignored.
public enum StickyRule {
    /// `decision` as recorded for a unit that holds `held` (nil: a new unit, whose
    /// decision claims the unit for its arm and stays as it is).
    public static func apply(_ held: HeldArm?, to decision: Decision, arms: Int) -> Decision {
        guard let held, held.arm < arms else { return decision }
        var kept = decision
        kept.armIndex = held.arm
        kept.propensity = held.propensity
        kept.probabilities = certain(held.arm, arms: arms)
        return kept
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
