import Foundation
import Metrics
import NIOConcurrencyHelpers

/// How an adaptive experiment keeps a unit on its arm: the decision's unit is stuck to the
/// decision's arm for `ttlSeconds` unless it holds an arm already, and then the decision
/// takes the held arm. Travels with a decision to the group commit, which claims a whole
/// batch's units in one Redis pipeline before it writes the batch (see
/// ``PostgresDecisionLog``): one queue and one wait per assign instead of two.
public struct StickyClaim: Sendable {
    /// Where the units are claimed (the replica's Redis).
    public let store: RedisStickiness
    public let ttlSeconds: Int
    /// The experiment's arm count: a held arm outside it (the arms changed) is ignored.
    public let arms: Int
}

/// An arm a returning unit holds, with the propensity logged when it was first chosen.
struct HeldArm: Sendable, Equatable {
    var arm: Int
    var propensity: Double
}

extension Decision {
    /// This decision for a returning unit that holds `held`: the arm is certain, and the
    /// propensity logged is the original one.
    func keeping(_ held: HeldArm, arms: Int) -> Decision {
        var kept = self
        kept.armIndex = held.arm
        kept.propensity = held.propensity
        kept.probabilities = Self.certain(held.arm, arms: arms)
        return kept
    }

    /// The probabilities of a choice that could only be `arm`.
    static func certain(_ arm: Int, arms: Int) -> [Double] {
        (0..<arms).map { $0 == arm ? 1 : 0 }
    }
}

/// Claims units for their decisions' arms in Redis, a batch at a time in one round trip
/// (`SET key arm:propensity NX EX ttl GET`, Redis 7), with blocking calls on a connection
/// of its own: called from the group-commit thread. The key is the one
/// ``RedisStatisticsStore/stick(experiment:unit:arm:propensity:ttl:)`` uses, so both ways of
/// sticking see each other.
public final class RedisStickiness: Sendable {
    private let connection: NIOLockedValueBox<RedisConnection>

    init(endpoint: RedisConnection.Endpoint) {
        connection = NIOLockedValueBox(RedisConnection(endpoint: endpoint))
    }

    /// For each decision, in order, the arm its unit held before (nil for a unit stuck to
    /// the decision's arm now). Two decisions for one unit in a batch: the first claims.
    /// Throws ``StoreError`` if Redis fails.
    func claim(_ decisions: [(decision: Decision, ttlSeconds: Int)]) throws -> [HeldArm?] {
        let commands = decisions.map { d, ttl in
            RedisStatisticsStore.stickCommand(experiment: d.experiment, unit: d.unit, arm: d.armIndex, propensity: d.propensity, ttl: ttl)
        }
        // One thread uses it in a service; the lock keeps tests with several logs safe.
        let started = ContinuousClock.now
        let replies = try connection.withLockedValue { try $0.pipeline(commands) }
        Metrics.Timer(label: MetricNames.redisStickySeconds).record(duration: ContinuousClock.now - started)
        return try replies.map { reply in
            if case .error(let message) = reply {
                throw StoreError(.serverError, store: .redis, message: "SET failed: \(message)")
            }
            return RedisStatisticsStore.parseSticky(reply)
        }
    }
}
