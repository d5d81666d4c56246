@testable import ExperimentService
import Foundation
import ServiceLifecycle
import Testing

@Suite("Group commit of decisions and rewards")
struct GroupCommitTests {
    /// An experiment row the decisions can reference.
    static func experiment() async throws -> String {
        let stores = try await TestStores.stores()
        let key = TestStores.uniqueKey("gc")
        let catalog = ExperimentCatalog(repository: stores.repository, registry: TestStores.policies)
        _ = try await catalog.create(ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b")]))
        return key
    }

    static func decision(_ key: String, _ i: Int) -> Decision {
        Decision(id: DecisionID.make(), experiment: key, armIndex: i % 2, unit: "u\(i)", propensity: 0.5,
                 context: nil, policy: "weighted-split@1", seed: UInt64(i))
    }

    @Test("concurrent writers share transactions, and every acknowledged row is in PostgreSQL")
    func batches() async throws {
        let key = try await Self.experiment()
        let log = try await TestStores.groupCommit()
        let decisions = (0..<400).map { Self.decision(key, $0) }
        let outcomes = try await withThrowingTaskGroup(of: RewardOutcome.self) { group in
            group.addTask { try await log.run(); return .duplicate }
            let results = try await withThrowingTaskGroup(of: RewardOutcome.self) { writers in
                for d in decisions {
                    writers.addTask {
                        try await log.record(d)
                        return try await log.record(Reward(for: d, metric: "reward", value: Double(d.armIndex))).outcome
                    }
                }
                return try await writers.reduce(into: []) { $0.append($1) }
            }
            group.cancelAll()
            return results
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { if case .recorded = $0 { true } else { false } })
        let stats = log.statistics
        #expect(stats.rows == 800)
        #expect(stats.batches < 800, "\(stats.batches) transactions for 800 rows: nothing was grouped")
        let counts = try await TestStores.query(
            "SELECT count(*), sum(r.value) FROM switchboard.decisions d JOIN switchboard.rewards r ON r.decision_id = d.id WHERE d.experiment = $1", [key])
        #expect(counts == [["400", "200"]])
    }

    @Test("one batch tells stored, duplicate and conflicting rewards apart, repeats inside the batch too; an unknown decision fails alone")
    func outcomesInOneBatch() async throws {
        let key = try await Self.experiment()
        let log = try await TestStores.groupCommit()
        let d = Self.decision(key, 1)
        var unknown = d
        unknown.id = DecisionID.make()  // never recorded
        let results = try await withThrowingTaskGroup(of: [RewardOutcome?].self) { group in
            group.addTask { try await log.run(); return [] }
            try await log.record(d)
            let first = try await log.record(Reward(for: d, metric: "reward", value: 1)).outcome
            // These are queued together, so they share one batch.
            let rest = await log.record([
                Reward(for: d, metric: "reward", value: 1), Reward(for: d, metric: "reward", value: 0),
                Reward(for: d, metric: "clicks", value: 3), Reward(for: d, metric: "clicks", value: 4),
            ]).map { try? $0.get().outcome }
            // The foreign key refuses a reward for a decision that was never recorded; others are unaffected.
            let orphan = await log.record([Reward(for: unknown, metric: "reward", value: 1), Reward(for: d, metric: "views", value: 1)])
            group.cancelAll()
            #expect((try? orphan[0].get()) == nil)
            #expect((try? orphan[1].get().outcome) == .recorded)
            return [first] + rest
        }
        #expect(results[0] == .recorded)
        #expect(results[1] == .duplicate)
        #expect(results[2] == .conflict(existing: 1))
        #expect(results.suffix(2).filter { if case .recorded = $0 { true } else { false } }.count == 1)
        #expect(results.suffix(2).contains(.conflict(existing: 3)) || results.suffix(2).contains(.conflict(existing: 4)))
    }

    @Test("a full queue refuses new rows with 'overloaded' instead of growing")
    func boundedQueue() async throws {
        let key = try await Self.experiment()
        let log = try await TestStores.groupCommit(maxQueue: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The writer is not running yet, so the queue fills.
            for i in 0..<3 { group.addTask { try await log.record(Self.decision(key, i)) } }
            while log.statistics.queued < 3 { try await Task.sleep(for: .milliseconds(5)) }
            await #expect(throws: ServiceError.overloaded("the write queue holds 3 rows, its limit")) {
                try await log.record(Self.decision(key, 9))
            }
            group.addTask { try await log.run() }
            while log.statistics.rows < 3 { try await Task.sleep(for: .milliseconds(5)) }
            group.cancelAll()
        }
        #expect(try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [key]) == [["3"]])
    }

    @Test("a row PostgreSQL refuses fails alone: the rest of its batch is written one by one")
    func badRowFailsAlone() async throws {
        let key = try await Self.experiment()
        let stored = Self.decision(key, 100)
        var bad = [Self.decision(key, 101), Self.decision(key, 102)]
        bad[0].propensity = 0           // breaks the CHECK on propensity
        bad[1].unit = "nul\u{0}unit"    // text cannot hold NUL
        let good = (0..<20).map { Self.decision(key, $0) }
        let first = try await TestStores.groupCommit()
        let firstWriter = Task { try await first.run() }
        try await first.record(stored)
        firstWriter.cancel()
        let log = try await TestStores.groupCommit()
        let results = try await withThrowingTaskGroup(of: (UUID, Bool).self) { group in
            for d in good + bad { group.addTask { (d.id, (try? await log.record(d)) != nil) } }
            group.addTask { (stored.id, (try? await log.record(Reward(for: stored, metric: "reward", value: 1)).outcome) == .recorded) }
            // The writer starts once every row is queued, so they all share one batch.
            while log.statistics.queued < good.count + bad.count + 1 { try await Task.sleep(for: .milliseconds(2)) }
            let writer = Task { try await log.run() }
            var results: [UUID: Bool] = [:]
            for try await (id, ok) in group { results[id] = ok }
            writer.cancel()
            return results
        }
        #expect(results.filter(\.value).count == good.count + 1, "\(results)")
        #expect(bad.allSatisfy { results[$0.id] == false })
        let rows = try await TestStores.query(
            "SELECT count(*), (SELECT count(*) FROM switchboard.rewards r JOIN switchboard.decisions d ON d.id = r.decision_id WHERE d.experiment = $1) FROM switchboard.decisions WHERE experiment = $1", [key])
        #expect(rows == [["21", "1"]])
    }

    @Test("two replicas storing different values for one reward at once: one is recorded, the other is a conflict, never a duplicate")
    func raceBetweenReplicas() async throws {
        let key = try await Self.experiment()
        let first = try await TestStores.groupCommit(), second = try await TestStores.groupCommit()
        let writers = [Task { try await first.run() }, Task { try await second.run() }]
        defer { writers.forEach { $0.cancel() } }
        let decisions = (0..<60).map { Self.decision(key, $0) }
        for d in decisions { try await first.record(d) }
        var outcomes: [[RewardOutcome]] = []
        for d in decisions {
            async let a = first.record(Reward(for: d, metric: "reward", value: 1)).outcome
            async let b = second.record(Reward(for: d, metric: "reward", value: 0)).outcome
            outcomes.append(try await [a, b])
        }
        for (d, pair) in zip(decisions, outcomes) {
            let recorded = pair.filter { if case .recorded = $0 { true } else { false } }.count
            let conflicts = pair.filter { if case .conflict = $0 { true } else { false } }.count
            #expect(recorded == 1 && conflicts == 1, "decision \(d.id): \(pair)")
        }
    }
}
