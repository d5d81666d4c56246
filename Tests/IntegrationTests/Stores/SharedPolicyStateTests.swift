@testable import ExperimentService
import Foundation
import Testing

@Suite("Shared policy state: local deltas, batched flushes, bounded refresh, epochs")
struct SharedPolicyStateTests {
    /// A replica's shared state, wired like the service's (with its rebuilder).
    static func replica() async throws -> (SharedPolicyState, ServiceComponents) {
        let stores = try await TestStores.stores()
        let components = ServiceComponents(stores: stores, policies: TestStores.policies, logger: TestStores.logger)
        return (stores.shared, components)
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
        guard case .ready(_, _, let values) = try await TestStores.stores().state.policyState(experiment: key, length: 6) else {
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
        #expect(try await TestStores.stores().state.counters(experiment: key, armCount: 2)
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
        let report = try #require(try await components.rebuilder?.rebuild(experiment: key, force: true))
        #expect(report.snapshot.sees(before))
        let after = try await Self.newCommit()
        #expect(!report.snapshot.sees(after))
        replica.add(experiment: key, commit: after, delta: [0, 1, 0, 0, 0, 0])
        await replica.flush(refreshDue: true)  // refused (old epoch): adopts the new one, drops `before`
        await replica.flush(refreshDue: true)  // sends `after` into the new epoch
        #expect(replica.isSettled)
        #expect(try await replica.statistics(experiment: key, length: 6) == [0, 1, 0, 0, 0, 0])
        guard case .ready(let epoch, _, let values) = try await TestStores.stores().state.policyState(experiment: key, length: 6) else {
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
