@testable import ExperimentService
import Foundation
import Testing

/// Learning follows from the commit: rewards acknowledged by a replica that is killed
/// before its flush reach the policy anyway.
@Suite("A replica killed between commit and flush", .serialized)
struct ReplicaKillTests {
    @Test("rewards it committed but never flushed are learned: the reconciler rebuilds what Redis lacks")
    func killedBeforeFlush() async throws {
        let stores = try await TestStores.stores()
        // A flush interval of 10 minutes: nothing this replica commits reaches Redis before the kill.
        let replica = try await ThreeReplicasTests.start(count: 1, arguments: ["--flush-interval-ms", "600000"])[0]
        let key = TestStores.uniqueKey("killed")
        let created = try await ThreeReplicasTests.request(replica.base + "/v1/experiments", method: "POST", json: """
            {"key": "\(key)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}
            """)
        #expect(created.status == 201)
        let rounds = 20
        // In one burst, then the kill: other replicas of the test run repair only what is
        // older than 10 s, so nothing of this is repaired before the test's own check.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<rounds {
                group.addTask {
                    let assign = try await ThreeReplicasTests.request(replica.base + "/v1/experiments/\(key)/assign", method: "POST",
                                                                      json: #"{"unit": "user-\#(i)"}"#)
                    let decision = try JSONDecoder().decode(AssignResponse.self, from: assign.body).decisionID
                    let reward = try await ThreeReplicasTests.request(replica.base + "/v1/rewards", method: "POST",
                                                                      json: #"{"decision_id": "\#(decision)", "reward": \#(i % 2)}"#)
                    #expect(reward.status == 200)
                }
            }
            try await group.waitForAll()
        }
        kill(replica.process.processIdentifier, SIGKILL)
        await replica.process.exit(within: .seconds(10))

        // The bug, reproduced: PostgreSQL has every reward, Redis none of them.
        let components = ServiceComponents(stores: stores, policies: TestStores.policies, logger: TestStores.logger)
        let log = try #require(stores.decisionLog as? PostgresDecisionLog)
        #expect(try await log.learningCounts(experiment: key, settled: .zero) == .init(decisions: 20, settledDecisions: 20, rewards: 20, settledRewards: 20))
        // 0 is the bug. On a loaded run another replica of the test suite (its reconciler checks
        // what settled 10 s ago) can have repaired it already: then every reward is there.
        let before = try await stores.statistics.counters(experiment: key, armCount: 2).reduce(0) { $0 + $1.rewards }
        #expect(before == 0 || before == Int64(rounds))

        let reconciler = LearningReconciler(repository: stores.repository, decisionLog: log, statistics: stores.statistics,
                                            rebuilder: components.rebuilder, settle: .zero, logger: TestStores.logger)
        let experiment = try await components.catalog.entry(key).experiment
        // Repaired here (or by another replica meanwhile): the counts below are exact either way.
        _ = try await reconciler.reconcile(experiment)
        let counters = try await stores.statistics.counters(experiment: key, armCount: 2)
        #expect(counters.reduce(0) { $0 + $1.assignments } == Int64(rounds))
        #expect(counters.reduce(0) { $0 + $1.rewards } == Int64(rounds))
        guard case .ready(_, _, let statistics) = try await stores.statistics.storedStatistics(experiment: key, length: 4) else {
            Issue.record("no statistics in Redis")
            return
        }
        // Thompson: successes and failures per arm; every reward learned once.
        #expect(statistics.reduce(0, +) == Double(rounds))
        #expect(statistics[0] + statistics[2] == Double(rounds / 2))
        // Once repaired, the check finds nothing to do.
        #expect(try await reconciler.reconcile(experiment) == false)
    }
}
