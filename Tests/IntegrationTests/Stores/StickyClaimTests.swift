@testable import ExperimentService
import Foundation
import Testing

@Suite("Sticky units claimed by the group commit")
struct StickyClaimTests {
    static func decision(_ key: String, unit: String, arm: Int, propensity: Double = 0.25) -> Decision {
        Decision(id: DecisionID.make(), experiment: key, armIndex: arm, unit: unit, propensity: propensity,
                 context: nil, policy: "thompson@1", seed: 7, probabilities: [0.25, 0.25, 0.25, 0.25])
    }

    /// Runs `body` with a running group commit (claiming units in `units`, the test Redis by default), stopped afterwards.
    static func withLog<T: Sendable>(units: (any StickyUnits)? = nil, _ body: @Sendable (GroupCommit) async throws -> T) async throws -> T {
        let units = if let units { units } else { try await TestStores.stores().stickyUnits }
        let log = GroupCommit(log: PostgresDecisionLog(database: TestStores.database), units: units)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await log.run(); return nil }
            defer { group.cancelAll() }
            return try await body(log)
        }
    }

    static func storedArm(_ id: UUID) async throws -> [[String?]] {
        try await TestStores.query(
            "SELECT arm_index, propensity, probabilities::text FROM switchboard.decisions WHERE id = $1::uuid", [id.uuidString])
    }

    @Test("a new unit keeps its decision and is stuck with the TTL; a returning one gets its held arm, stored as such")
    func newThenReturning() async throws {
        let key = try await GroupCommitTests.experiment()
        let claim = StickyClaim(ttlSeconds: 600, arms: 4)
        let first = Self.decision(key, unit: "u-1", arm: 2, propensity: 0.4)
        let second = Self.decision(key, unit: "u-1", arm: 0, propensity: 0.3)
        let (a, b) = try await Self.withLog { log in
            (try await log.record(first, claim: claim).decision, try await log.record(second, claim: claim).decision)
        }
        #expect(a == first)
        #expect(b.id == second.id)
        #expect(b.armIndex == 2 && b.propensity == 0.4 && b.probabilities == [0, 0, 1, 0])
        #expect(try await Self.storedArm(first.id) == [["2", "0.4", "{0.25,0.25,0.25,0.25}"]])
        #expect(try await Self.storedArm(second.id) == [["2", "0.4", "{0,0,1,0}"]])
        let redis = RedisConnection(endpoint: try RedisConnection.Endpoint(url: TestStores.redisURL))
        let stickyKey = RedisStickyUnits.key(key, unit: "u-1")
        #expect(try redis.command(["GET", stickyKey]) == .string("2:0.4"))
        let ttl = try redis.command(["TTL", stickyKey])
        // The experiment's 600 s, less the time since the claim (seconds on a loaded CI machine).
        #expect(ttl.text.flatMap { Int($0) }.map { (540...600).contains($0) } == true, "TTL \(ttl)")
    }

    @Test("concurrent decisions for one unit all end on the arm of the first claim")
    func oneUnitConcurrently() async throws {
        let key = try await GroupCommitTests.experiment()
        let claim = StickyClaim(ttlSeconds: 600, arms: 4)
        let decisions = (0..<64).map { Self.decision(key, unit: "same", arm: $0 % 4, propensity: 0.1 + Double($0 % 4) / 10) }
        let stored = try await Self.withLog { log in
            try await withThrowingTaskGroup(of: Decision.self) { group in
                for d in decisions { group.addTask { try await log.record(d, claim: claim).decision } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let arms = Set(stored.map(\.armIndex))
        #expect(arms.count == 1)
        let rows = try await TestStores.query(
            "SELECT DISTINCT arm_index FROM switchboard.decisions WHERE experiment = $1 AND unit = 'same'", [key])
        #expect(rows == [[String(arms.first!)]])
        #expect(stored.filter { $0.probabilities == [0.25, 0.25, 0.25, 0.25] }.count == 1, "only the first claim keeps the policy's probabilities")
    }

    @Test("a held arm the experiment no longer has is ignored: the decision keeps its own")
    func heldArmOutOfRange() async throws {
        let key = try await GroupCommitTests.experiment()
        let redis = RedisConnection(endpoint: try RedisConnection.Endpoint(url: TestStores.redisURL))
        _ = try redis.command(["SET", RedisStickyUnits.key(key, unit: "old"), "7:0.5", "EX", "600"])
        let d = Self.decision(key, unit: "old", arm: 1)
        let stored = try await Self.withLog { log in
            try await log.record(d, claim: StickyClaim(ttlSeconds: 600, arms: 4)).decision
        }
        #expect(stored == d)
    }

    @Test("Redis down: the sticky decision fails naming Redis and is not stored; the rest of the batch commits")
    func redisDown() async throws {
        let key = try await GroupCommitTests.experiment()
        let dead = RedisStickyUnits(pipeline: try RedisPipeline(url: "redis://127.0.0.1:\(try FreePort.find())"))
        let claim = StickyClaim(ttlSeconds: 600, arms: 4)
        let sticky = Self.decision(key, unit: "lost", arm: 1)
        let plain = Self.decision(key, unit: "kept", arm: 1)
        let (failure, commit) = try await Self.withLog(units: dead) { log in
            async let stuck: Result<Decision, any Error> = { do { return .success(try await log.record(sticky, claim: claim).decision) } catch { return .failure(error) } }()
            async let written = log.record(plain)
            return (await stuck, try await written)
        }
        guard case .failure(let error as StoreError) = failure else { Issue.record("expected a Redis error, got \(failure)"); return }
        #expect(error.store == .redis && error.code == .unavailable)
        #expect(commit.rawValue > 0)
        #expect(try await Self.storedArm(sticky.id).isEmpty)
        #expect(try await Self.storedArm(plain.id).count == 1)
    }
}
