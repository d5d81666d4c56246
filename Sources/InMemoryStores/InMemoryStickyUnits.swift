import ExperimentService
import Foundation

/// Units' claims in memory, the twin of `RedisStickyUnits`: a claim sets a unit's arm for
/// a TTL unless it holds an unexpired one, and answers the arm held.
public final class InMemoryStickyUnits: StickyUnits, @unchecked Sendable {
    private struct Key: Hashable {
        var experiment: String
        var unit: String
    }

    private let lock = NSLock()
    private var held: [Key: (arm: HeldArm, expires: Date)] = [:]

    public init() {}

    public func claimBlocking(_ decisions: [(decision: Decision, ttlSeconds: Int)]) throws -> [HeldArm?] {
        lock.withLock { decisions.map { d, ttl in claim(d.experiment, d.unit, HeldArm(arm: d.armIndex, propensity: d.propensity), ttl) } }
    }

    public func claim(experiment: String, unit: String, arm: Int, propensity: Double, ttlSeconds: Int) async throws -> HeldArm? {
        lock.withLock { claim(experiment, unit, HeldArm(arm: arm, propensity: propensity), ttlSeconds) }
    }

    /// The arm `unit` holds, if any (for tests).
    public func arm(experiment: String, unit: String) -> HeldArm? {
        lock.withLock { held[Key(experiment: experiment, unit: unit)].flatMap { $0.expires > Date() ? $0.arm : nil } }
    }

    private func claim(_ experiment: String, _ unit: String, _ arm: HeldArm, _ ttl: Int) -> HeldArm? {
        let key = Key(experiment: experiment, unit: unit), now = Date()
        if let existing = held[key], existing.expires > now { return existing.arm }
        held[key] = (arm, now.addingTimeInterval(Double(ttl)))
        return nil
    }
}
