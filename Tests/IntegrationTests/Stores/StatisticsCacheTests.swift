@testable import ExperimentService
import Foundation
import Testing

@Suite("Statistics cache: local deltas, batched flushes, bounded refresh, epochs")
struct StatisticsCacheTests {
    /// Redis database 7 of the test server: these tests write counters no decision row
    /// backs (made-up commits), which the reconciler of any other replica on the shared
    /// stores would rightly repair; in another database their statistics are invisible to it.
    static var redisURL: String { TestStores.redisURL + "/7" }

    /// The test stores, with Redis in database 7.
    static func stores() async throws -> Stores {
        _ = try await TestStores.stores()  // checks the environment, migrates
        return try Stores.connect(database: TestStores.database, redisURL: redisURL)
    }

    /// A replica's statistics cache, wired like the service's (with its rebuilder).
    static func replica() async throws -> (StatisticsCache, ServiceComponents) {
        let stores = try await Self.stores()
        let components = ServiceComponents(stores: stores, policies: TestStores.policies, logger: TestStores.logger)
        return (components.cache, components)
    }

    /// A Thompson experiment with three arms (six statistics, prior all zero).
    static func experiment(_ components: ServiceComponents, _ prefix: String) async throws -> String {
        let key = TestStores.uniqueKey(prefix)
        var spec = ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b"), .init(name: "c")])
        spec.policy = Experiment.PolicyReference(name: "thompson", version: nil, config: nil)
        _ = try await components.catalog.create(spec)
        return key
    }

    /// The id of a transaction that committed just now (after any rebuild so far).
    static func newCommit() async throws -> CommitID {
        CommitID(UInt64(try #require(try await TestStores.query("SELECT pg_current_xact_id()::text")[0][0]))!)
    }

    @Test("two replicas add deltas concurrently; after a refresh both see exactly the sum")
    func replicasConverge() async throws {
        let (a, components) = try await Self.replica()
        let (b, _) = try await Self.replica()
        let key = try await Self.experiment(components, "shared")
        #expect(try await a.statistics(experiment: key, length: 6) == [0, 0, 0, 0, 0, 0])  // built from PostgreSQL: the prior
        _ = try await b.statistics(experiment: key, length: 6)
        let commit = try await Self.newCommit()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            group.addTask { try await b.run() }
            for i in 0..<500 {
                (i.isMultiple(of: 2) ? a : b).add(experiment: key, commit: commit, delta: [1, 0, 0.5, 0, 0, 0])
                if i.isMultiple(of: 50) { try await Task.sleep(for: .milliseconds(2)) }
            }
            // A replica sees its own deltas at once, before any flush.
            #expect(try await a.statistics(experiment: key, length: 6)[0] >= 250)
            for replica in [a, b] {  // converges within a few flushes and refreshes (polled: CI machines are slow)
                var view: [Double] = []
                for _ in 0..<100 {
                    view = try await replica.statistics(experiment: key, length: 6)
                    if view == [500, 0, 250, 0, 0, 0] { break }
                    try await Task.sleep(for: .milliseconds(30))
                }
                #expect(view == [500, 0, 250, 0, 0, 0])
            }
            group.cancelAll()
        }
        guard case .ready(_, _, let values) = try await Self.stores().statistics.storedStatistics(experiment: key, length: 6) else {
            Issue.record("no statistics in Redis")
            return
        }
        #expect(values == [500, 0, 250, 0, 0, 0])
    }

    @Test("counters reach Redis with the flush")
    func counters() async throws {
        let (replica, components) = try await Self.replica()
        let key = try await Self.experiment(components, "shared-counters")
        _ = try await replica.statistics(experiment: key, length: 6)
        let commit = try await Self.newCommit()
        replica.count(experiment: key, arm: 1, commit: commit, assignments: 3)
        replica.count(experiment: key, arm: 1, commit: commit, rewards: 2, rewardSum: 1.5)
        await replica.flush()
        #expect(try await Self.stores().statistics.counters(experiment: key, armCount: 2)
                == [ArmCounters(), ArmCounters(assignments: 3, rewards: 2, rewardSum: 1.5)])
    }

    @Test("a new epoch drops pending deltas of commits its snapshot saw and keeps the others")
    func epochDropsCountedDeltas() async throws {
        let (replica, components) = try await Self.replica()
        let key = try await Self.experiment(components, "shared-epoch")
        _ = try await replica.statistics(experiment: key, length: 6)
        let before = try await Self.newCommit()
        replica.add(experiment: key, commit: before, delta: [1, 0, 0, 0, 0, 0])
        // Another replica (or switchboard rebuild-state) rebuilds now: its snapshot sees `before`
        // (whose reward, in real life, it would have replayed; here there are none, so 0).
        let report = try #require(try await components.rebuilder.rebuild(experiment: key, force: true))
        #expect(report.snapshot.sees(before))
        let after = try await Self.newCommit()
        #expect(!report.snapshot.sees(after))
        replica.add(experiment: key, commit: after, delta: [0, 1, 0, 0, 0, 0])
        await replica.flush(refreshDue: true)  // refused (old epoch): adopts the new one, drops `before`
        await replica.flush(refreshDue: true)  // sends `after` into the new epoch
        #expect(replica.isSettled)
        #expect(try await replica.statistics(experiment: key, length: 6) == [0, 1, 0, 0, 0, 0])
        guard case .ready(let epoch, _, let values) = try await Self.stores().statistics.storedStatistics(experiment: key, length: 6) else {
            Issue.record("no statistics in Redis")
            return
        }
        #expect(epoch == report.epoch)
        #expect(values == [0, 1, 0, 0, 0, 0])
    }
}

@Suite("Database snapshots: which commits a rebuild counted")
struct DatabaseSnapshotTests {
    @Test("parses pg_current_snapshot() text and tells visible commits apart")
    func visibility() throws {
        let s = try #require(DatabaseSnapshot("100:105:101,103"))
        #expect(s.sees(CommitID(99)))
        #expect(s.sees(CommitID(100)))
        #expect(!s.sees(CommitID(101)))
        #expect(s.sees(CommitID(102)))
        #expect(!s.sees(CommitID(103)))
        #expect(s.sees(CommitID(104)))
        #expect(!s.sees(CommitID(105)))
        #expect(s.description == "100:105:101,103")
        #expect(DatabaseSnapshot("7:7:") == DatabaseSnapshot(xmin: 7, xmax: 7))
        for bad in ["", "1:2", "5:3:", "1:5:9", "a:b:", "1:5:2,x"] { #expect(DatabaseSnapshot(bad) == nil, "\(bad)") }
    }
}

/// Flushes are applied exactly once, whatever Redis answers.
extension StatisticsCacheTests {
    /// Statistic 0 and arm 0's assignment counter of `key`, as Redis holds them.
    static func stored(_ redis: RedisConnection, _ key: String) throws -> (statistic: String?, assignments: String?) {
        (try redis.command(["HGET", RedisStatisticsStore.stateKey(key), "0"]).text,
         try redis.command(["HGET", RedisStatisticsStore.countersKey(key), "0:assignments"]).text)
    }

    @Test("a flush Redis refuses for one experiment is sent again alone; the others are applied exactly once")
    func refusedFlushIsRetriedAlone() async throws {
        let (a, components) = try await Self.replica()
        let good = try await Self.experiment(components, "flush-ok")
        let refused = try await Self.experiment(components, "flush-refused")
        for key in [good, refused] { _ = try await a.statistics(experiment: key, length: 6) }
        let redis = RedisConnection(endpoint: try .init(url: Self.redisURL))
        defer { redis.close() }
        // A counters key of the wrong type makes Redis refuse that experiment's flush (as OOM or READONLY would).
        _ = try redis.command(["SET", RedisStatisticsStore.countersKey(refused), "not a hash"])
        let commit = try await Self.newCommit()
        for key in [good, refused] {
            a.add(experiment: key, commit: commit, delta: [1, 0, 0, 0, 0, 0])
            a.count(experiment: key, arm: 0, commit: commit, assignments: 1)
        }
        await a.flush()  // rounds for 2 s: the refused flush never settles
        #expect(try Self.stored(redis, good) == ("1", "1"))
        #expect(try Self.stored(redis, refused).statistic == nil)
        #expect(!a.isSettled(refused) && a.isSettled(good))
        _ = try redis.command(["DEL", RedisStatisticsStore.countersKey(refused)])
        await a.flush()
        #expect(try Self.stored(redis, refused) == ("1", "1"))
        #expect(try Self.stored(redis, good) == ("1", "1"))
        #expect(try await a.statistics(experiment: good, length: 6)[0] == 1)
    }

    @Test("a flush sent twice (its reply lost) counts once; one that would overflow writes nothing")
    func flushIsIdempotent() async throws {
        let (a, components) = try await Self.replica()
        let key = try await Self.experiment(components, "flush-twice")
        _ = try await a.statistics(experiment: key, length: 6)
        let store = try await Self.stores().statistics
        guard case .ready(let epoch, _, _) = try await store.storedStatistics(experiment: key, length: 6) else {
            Issue.record("no statistics in Redis")
            return
        }
        let redis = RedisConnection(endpoint: try .init(url: Self.redisURL))
        defer { redis.close() }
        func add(_ sequence: UInt64, _ value: Double) async throws -> AddReply? {
            let addition = StatisticsFlush.Addition(epoch: epoch, token: FlushToken(replica: "test", sequence: sequence),
                                                    delta: [value, 0, 0, 0, 0, 0], counters: [0: ArmCounters(assignments: 1, rewardSum: value)])
            return try await store.flush([StatisticsFlush(experiment: key, addition: addition, readLength: nil)])[0].added
        }
        #expect(try await add(1, 1) == .applied)
        #expect(try await add(1, 1) == .applied)   // the same flush again
        #expect(try await add(2, 2) == .applied)
        #expect(try await add(1, 1) == .applied)   // an older one, late
        #expect(try Self.stored(redis, key) == ("3", "2"))
        #expect(try await add(3, 1.7e308) == .applied)
        #expect(try await add(4, 1.7e308) == .overflow(field: "0"))
        #expect(try Self.stored(redis, key).assignments == "3")  // nothing of the refused flush was written
    }

    @Test("a statistic Redis holds as 'inf' is never served: the statistics are rebuilt from PostgreSQL")
    func corruptStatisticsAreRebuilt() async throws {
        let (a, components) = try await Self.replica()
        let key = try await Self.experiment(components, "corrupt")
        _ = try await a.statistics(experiment: key, length: 6)
        let redis = RedisConnection(endpoint: try .init(url: Self.redisURL))
        defer { redis.close() }
        _ = try redis.command(["HSET", RedisStatisticsStore.stateKey(key), "0", "inf"])
        let (b, _) = try await Self.replica()
        #expect(try await b.statistics(experiment: key, length: 6) == [0, 0, 0, 0, 0, 0])
        #expect(try Self.stored(redis, key).statistic == nil)
    }
}
