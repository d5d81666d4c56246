/// Where units are claimed for their arms (Redis in production), the store behind the
/// ``StickyRule``: a claim sticks a unit to an arm for a TTL unless it holds one already,
/// and answers the arm it held.
public protocol StickyUnits: Sendable {
    /// Claims a batch of units in one round trip, blocking (called on the group commit's
    /// thread). For each decision, in order, the arm its unit held before (nil for a unit
    /// stuck to the decision's arm now); of two decisions for one unit, the first claims.
    func claimBlocking(_ decisions: [(decision: Decision, ttlSeconds: Int)]) throws -> [HeldArm?]
    /// Claims one unit for `arm` now, in a round trip of its own.
    func claim(experiment: String, unit: String, arm: Int, propensity: Double, ttlSeconds: Int) async throws -> HeldArm?
}
