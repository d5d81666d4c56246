@testable import ExperimentService
import Foundation
import Testing

@Suite("Shared policy state: local deltas, batched flushes, bounded refresh")
struct SharedPolicyStateTests {
    static func replica() async throws -> SharedPolicyState {
        let stores = try await TestStores.stores()
        return SharedPolicyState(store: stores.state, flushInterval: .milliseconds(10), refreshInterval: .milliseconds(50), logger: TestStores.logger)
    }

    @Test("two replicas add deltas concurrently; after a refresh both see exactly the sum")
    func replicasConverge() async throws {
        let key = TestStores.uniqueKey("shared")
        let a = try await Self.replica(), b = try await Self.replica()
        let prior = [1.0, 1.0, 0.0]
        _ = try await a.statistics(experiment: key, length: 3) { prior }
        _ = try await b.statistics(experiment: key, length: 3) { prior }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            group.addTask { try await b.run() }
            for i in 0..<500 {
                (i.isMultiple(of: 2) ? a : b).add(experiment: key, delta: [1, 0, 0.5])
                if i.isMultiple(of: 50) { try await Task.sleep(for: .milliseconds(2)) }
            }
            // A replica sees its own deltas at once, before any flush.
            #expect(try await a.statistics(experiment: key, length: 3) { prior }[0] >= 251)
            for replica in [a, b] {  // converges within a few flushes and refreshes (polled: CI machines are slow)
                var view: [Double] = []
                for _ in 0..<100 {
                    view = try await replica.statistics(experiment: key, length: 3) { prior }
                    if view == [501, 1, 250] { break }
                    try await Task.sleep(for: .milliseconds(30))
                }
                #expect(view == [501, 1, 250])
            }
            group.cancelAll()
        }
        #expect(try await TestStores.stores().state.policyState(experiment: key, length: 3) == [501, 1, 250])
    }

    @Test("counters reach Redis with the flush")
    func counters() async throws {
        let key = TestStores.uniqueKey("shared-counters")
        let replica = try await Self.replica()
        replica.count(experiment: key, arm: 1, assignments: 3)
        replica.count(experiment: key, arm: 1, rewards: 2, rewardSum: 1.5)
        await replica.flush()
        #expect(try await TestStores.stores().state.counters(experiment: key, armCount: 2)
                == [ArmCounters(), ArmCounters(assignments: 3, rewards: 2, rewardSum: 1.5)])
    }
}
