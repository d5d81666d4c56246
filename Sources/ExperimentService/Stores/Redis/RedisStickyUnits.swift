import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Units' claims in Redis: one key per experiment and unit, `sb:{<experiment>}:sticky:<unit>`
/// = `arm:propensity`, set with `SET NX EX GET` (Redis 7), which sets the key unless it
/// exists and returns the old value in one command. A batch of claims (the group commit's)
/// is one pipeline on a connection of its own, with blocking calls from the group commit's
/// thread; a single claim goes through the shared ``RedisPipeline``.
public final class RedisStickyUnits: StickyUnits {
    private let connection: NIOLockedValueBox<RedisConnection>
    private let pipeline: RedisPipeline

    public init(pipeline: RedisPipeline) {
        self.pipeline = pipeline
        connection = NIOLockedValueBox(RedisConnection(endpoint: pipeline.endpoint))
    }

    public func claimBlocking(_ decisions: [(decision: Decision, ttlSeconds: Int)]) throws -> [HeldArm?] {
        let commands = decisions.map { d, ttl in
            Self.claimCommand(experiment: d.experiment, unit: d.unit, arm: d.armIndex, propensity: d.propensity, ttl: ttl)
        }
        // One thread uses it in a service; the lock keeps tests with several group commits safe.
        let started = ContinuousClock.now
        let replies = try connection.withLockedValue { try $0.pipeline(commands) }
        Metrics.Timer(label: MetricNames.redisStickySeconds).record(duration: ContinuousClock.now - started)
        return try replies.map { reply in
            if case .error(let message) = reply {
                throw StoreError(.serverError, store: .redis, message: "SET failed: \(message)")
            }
            return Self.parseHeld(reply)
        }
    }

    public func claim(experiment: String, unit: String, arm: Int, propensity: Double, ttlSeconds: Int) async throws -> HeldArm? {
        let reply = try await pipeline.run([Self.claimCommand(experiment: experiment, unit: unit, arm: arm, propensity: propensity, ttl: ttlSeconds)])[0]
        return Self.parseHeld(reply)
    }

    static func key(_ experiment: String, unit: String) -> String { "sb:{\(experiment)}:sticky:\(unit)" }

    /// `SET NX EX GET` of a unit's key: sets it unless it exists, and returns the old value.
    static func claimCommand(experiment: String, unit: String, arm: Int, propensity: Double, ttl: Int) -> [String] {
        ["SET", key(experiment, unit: unit), "\(arm):\(propensity)", "NX", "EX", String(ttl), "GET"]
    }

    /// The arm a unit's key holds; nil for no key or a value that is not an arm index and a
    /// probability in (0, 1] (range-checked: a value read back from Redis is never trusted
    /// to index an array). ``StickyRule`` checks the arm against the experiment's arms.
    static func parseHeld(_ reply: RedisReply) -> HeldArm? {
        guard let text = reply.text else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let arm = Int(parts[0]), arm >= 0, let p = Double(parts[1]), p > 0, p <= 1 else { return nil }
        return HeldArm(arm: arm, propensity: p)
    }
}
