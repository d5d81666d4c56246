@testable import ExperimentService
import Foundation
import InMemoryStores
import PluginSupport
import Testing

/// The statistics views against the in-memory stores' results, an independent Swift
/// computation of the same definitions, on the same rows.
@Suite("The results of the SQL views (over rollups) equal the in-memory stores' (over raw rows) on the same rows")
struct ResultsTwinTests {
    @Test("three arms with uneven probabilities, a primary metric and a guardrail: per-arm figures, lifts, both kinds of interval and p-value, the 2-degree sample-ratio test, hours")
    func sameRowsSameResults() async throws {
        let stores = try await TestStores.stores()
        let memory = InMemoryStores()
        let key = TestStores.uniqueKey("twin")
        var spec = ExperimentSpec(key: key, arms: [.init(name: "control"), .init(name: "b"), .init(name: "c")])
        spec.policy = Experiment.PolicyReference(name: "thompson", version: nil, config: nil)
        spec.metrics = [Metric(name: "reward", primary: true), Metric(name: "revenue", kind: .count, direction: .decrease)]
        let experiment = try await ExperimentCatalog(repository: stores.repository, registry: TestStores.policies).create(spec)
        try await memory.experiments.create(experiment)

        var rng = SplitMix64(seed: 2026)
        var rows: [LogRow] = []
        for i in 0..<300 {
            let p = [0.5, 0.3, 0.2], u = rng.nextUnit()
            let arm = u < 0.45 ? 0 : (u < 0.8 ? 1 : 2)  // drawn off the logged probabilities: the SRM test has something to find
            let d = Decision(id: DecisionID.make(), experiment: key, armIndex: arm, unit: "u\(i)", propensity: p[arm], context: nil,
                             policy: "thompson@1", seed: UInt64(i), probabilities: p)
            rows.append(.decision(d, nil))
            if i % 5 != 4 { rows.append(.reward(Reward(for: d, metric: "reward", value: Double(arm + 1) * rng.nextUnit()))) }
            if i % 3 == 0 { rows.append(.reward(Reward(for: d, metric: "revenue", value: Double(arm * 3) + (rng.nextUnit() * 4).rounded(.down)))) }
        }
        // Written in several batches, as the group commit would: the rollups add up across statements.
        let writer = PostgresBatchWriter(url: TestStores.databaseURL)
        for batch in stride(from: 0, to: rows.count, by: 97).map({ Array(rows[$0..<min($0 + 97, rows.count)]) }) {
            _ = try writer.write(batch).get()
        }
        _ = try memory.decisionLog.makeBatchWriter().write(rows).get()

        let sql = try await stores.results.results(for: experiment, phase: nil)
        let swift = try await memory.stores.results.results(for: experiment, phase: nil)
        #expect(sql.metrics.map(\.metric.name) == ["reward", "revenue"] && swift.metrics.map(\.metric.name) == ["reward", "revenue"])
        for (s, m) in zip(sql.metrics, swift.metrics) {
            #expect(s.arms.count == 3 && m.arms.count == 3)
            for (a, b) in zip(s.arms, m.arms) { Self.expectSame(a, b, metric: s.metric.name) }
        }
        #expect(sql.metrics[1].guardrailViolated, "revenue should decrease and grows with the arm: \(sql.metrics[1].arms)")
        #expect(sql.warnings.contains { $0.contains("guardrail 'revenue'") })
        #expect(sql.sampleRatio.degreesOfFreedom == 2 && swift.sampleRatio.degreesOfFreedom == 2)
        #expect(Self.close(sql.sampleRatio.chiSquare, swift.sampleRatio.chiSquare))
        #expect(Self.close(sql.sampleRatio.pValue, swift.sampleRatio.pValue), "\(sql.sampleRatio) vs \(swift.sampleRatio)")
        #expect(sql.hourly.map(\.decisions).reduce(0, +) == 300)
        // The list's summaries (two queries for any number of experiments) say what the full results say,
        // for this experiment and for one without decisions or guardrails.
        let empty = try await ExperimentCatalog(repository: stores.repository, registry: TestStores.policies)
            .create(ExperimentSpec(key: TestStores.uniqueKey("twin-empty"), arms: [.init(name: "a"), .init(name: "b")]))
        let summaries = try await stores.results.summaries(of: [experiment, empty])
        let summary = try #require(summaries[key])
        #expect(summary.decisions == 300 && summary.guardrailViolated && summary.sampleRatio.degreesOfFreedom == 2)
        // Sums in another order: equal to the last bits.
        #expect(Self.close(summary.sampleRatio.chiSquare, sql.sampleRatio.chiSquare) && Self.close(summary.sampleRatio.pValue, sql.sampleRatio.pValue))
        #expect(summaries[empty.key] == ExperimentSummary(try await stores.results.results(for: empty, phase: nil)))
        #expect(summaries[empty.key]?.decisions == 0 && summaries[empty.key]?.sampleRatio.pValue == nil)
        #expect(try await memory.stores.results.summaries(of: [experiment])[key]?.guardrailViolated == true)
        #expect(try await stores.results.summaries(of: []).isEmpty)
        // The two stores stamp rows with their own clocks; an hour boundary between them is possible but rare.
        if sql.hourly.map(\.hour) == swift.hourly.map(\.hour) {
            #expect(zip(sql.hourly, swift.hourly).allSatisfy { $0.arm == $1.arm && $0.decisions == $1.decisions && $0.rewards == $1.rewards && Self.close($0.mean, $1.mean) })
            #expect(zip(sql.cumulative, swift.cumulative).allSatisfy {
                $0.arm == $1.arm && $0.rewards == $1.rewards && Self.close($0.mean, $1.mean) && Self.close($0.ciLow, $1.ciLow) && Self.close($0.seqCIHigh, $1.seqCIHigh)
            })
        }
    }

    @Test("the rollups equal a full recomputation from the raw decisions and rewards")
    func rollupsEqualRawRows() async throws {
        let stores = try await TestStores.stores()
        let key = TestStores.uniqueKey("rollup")
        var spec = ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b")])
        spec.metrics = [Metric(name: "clicks", kind: .count, primary: true), Metric(name: "latency", direction: .decrease)]
        let experiment = try await ExperimentCatalog(repository: stores.repository, registry: TestStores.policies).create(spec)
        var rng = SplitMix64(seed: 7)
        var rows: [LogRow] = []
        for i in 0..<500 {
            let arm = rng.nextUnit() < 0.5 ? 0 : 1
            let d = Decision(id: DecisionID.make(), experiment: key, armIndex: arm, unit: "u\(i)", propensity: 0.5, context: nil,
                             policy: "weighted-split@1", seed: UInt64(i), probabilities: [0.5, 0.5])
            rows.append(.decision(d, nil))
            if i % 2 == 0 { rows.append(.reward(Reward(for: d, metric: "clicks", value: (rng.nextUnit() * 5).rounded(.down)))) }
            if i % 3 == 0 { rows.append(.reward(Reward(for: d, metric: "latency", value: 100 + 50 * rng.nextUnit()))) }
        }
        // The group commit's batches (which sum their own rows), a compaction halfway, and
        // rows another writer inserts (summed by the statement triggers).
        let writer = PostgresBatchWriter(url: TestStores.databaseURL)
        for (i, batch) in stride(from: 0, to: rows.count, by: 61).map({ Array(rows[$0..<min($0 + 61, rows.count)]) }).enumerated() {
            _ = try writer.write(batch).get()
            if i == 5 { _ = try await stores.results.compactRollups() }
        }
        _ = try await TestStores.query(
            """
            INSERT INTO switchboard.rewards (decision_id, metric, value)
            SELECT id, 'latency', 42 FROM switchboard.decisions d
            WHERE d.experiment = $1 AND NOT EXISTS (SELECT 1 FROM switchboard.rewards r WHERE r.decision_id = d.id AND r.metric = 'latency')
            """, [experiment.key])
        let figures = try await stores.results.results(for: experiment, phase: nil)
        #expect(figures.metrics.first { $0.metric.name == "latency" }?.arms.map(\.rewards).reduce(0, +) == 500)
        let mismatches = try await TestStores.database.withConnection { conn in
            try conn.query(
                """
                WITH raw_decisions AS (
                    SELECT phase, arm_index, date_trunc('hour', created_at) AS hour, count(*) AS decisions
                    FROM switchboard.decisions WHERE experiment = $1 GROUP BY 1, 2, 3),
                rolled_decisions AS (
                    SELECT phase, arm_index, hour, sum(decisions) AS decisions
                    FROM switchboard.arm_rollups WHERE experiment = $1 GROUP BY 1, 2, 3),
                raw_expected AS (
                    SELECT d.phase, (p.o - 1)::integer AS arm_index, sum(p.v) AS expected
                    FROM switchboard.decisions d, unnest(d.probabilities) WITH ORDINALITY AS p(v, o)
                    WHERE d.experiment = $1 GROUP BY 1, 2),
                rolled_expected AS (
                    SELECT phase, arm_index, sum(expected_decisions) AS expected
                    FROM switchboard.arm_rollups WHERE experiment = $1 GROUP BY 1, 2),
                raw_rewards AS (
                    SELECT d.phase, d.arm_index, r.metric, date_trunc('hour', r.created_at) AS hour,
                           count(*) AS n, sum(r.value) AS s, sum(r.value * r.value) AS ss
                    FROM switchboard.rewards r JOIN switchboard.decisions d ON d.id = r.decision_id
                    WHERE d.experiment = $1 GROUP BY 1, 2, 3, 4),
                rolled_rewards AS (
                    SELECT phase, arm_index, metric, hour, sum(rewards) AS n, sum(value_sum) AS s, sum(value_sum_squares) AS ss
                    FROM switchboard.metric_rollups WHERE experiment = $1 GROUP BY 1, 2, 3, 4)
                SELECT 'decisions', count(*) FROM raw_decisions FULL JOIN rolled_decisions USING (phase, arm_index, hour)
                    WHERE raw_decisions.decisions IS DISTINCT FROM rolled_decisions.decisions
                UNION ALL
                SELECT 'expected', count(*) FROM raw_expected FULL JOIN rolled_expected USING (phase, arm_index)
                    WHERE abs(coalesce(raw_expected.expected, -1) - coalesce(rolled_expected.expected, -2)) > 1e-9
                UNION ALL
                SELECT 'rewards', count(*) FROM raw_rewards FULL JOIN rolled_rewards USING (phase, arm_index, metric, hour)
                    WHERE raw_rewards.n IS DISTINCT FROM rolled_rewards.n
                       OR abs(coalesce(raw_rewards.s, -1) - coalesce(rolled_rewards.s, -2)) > 1e-9 * greatest(1, abs(raw_rewards.s))
                       OR abs(coalesce(raw_rewards.ss, -1) - coalesce(rolled_rewards.ss, -2)) > 1e-9 * greatest(1, abs(raw_rewards.ss))
                UNION ALL
                SELECT 'rows', count(*) FROM switchboard.decisions WHERE experiment = $1
                """, [key]).rows
        }
        let counts = Dictionary(uniqueKeysWithValues: mismatches.map { ($0[0] ?? "", Int($0[1] ?? "") ?? -1) })
        #expect(counts == ["decisions": 0, "expected": 0, "rewards": 0, "rows": 500], "\(counts)")
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= 1e-9 * max(1, abs(b))
    }

    static func expectSame(_ s: ExperimentResults.Arm, _ m: ExperimentResults.Arm, metric: String) {
        #expect(s.arm == m.arm && s.isControl == m.isControl && s.decisions == m.decisions && s.rewards == m.rewards)
        #expect(s.guardrailViolated == m.guardrailViolated, "\(metric) arm \(s.arm): guardrail flag")
        let pairs: [(String, Double?, Double?)] = [
            ("expected", s.expectedDecisions, m.expectedDecisions), ("mean", s.mean, m.mean), ("sd", s.sd, m.sd),
            ("ci_low", s.ciLow, m.ciLow), ("ci_high", s.ciHigh, m.ciHigh), ("lift", s.lift, m.lift), ("relative_lift", s.relativeLift, m.relativeLift),
            ("lift_ci_low", s.liftCILow, m.liftCILow), ("lift_ci_high", s.liftCIHigh, m.liftCIHigh), ("p_value", s.pValue, m.pValue),
            ("seq_ci_low", s.seqCILow, m.seqCILow), ("seq_ci_high", s.seqCIHigh, m.seqCIHigh),
            ("seq_lift_ci_low", s.seqLiftCILow, m.seqLiftCILow), ("seq_lift_ci_high", s.seqLiftCIHigh, m.seqLiftCIHigh),
            ("seq_p_value", s.seqPValue, m.seqPValue),
        ]
        for (name, a, b) in pairs {
            #expect(close(a, b), "\(metric) arm \(s.arm) \(name): SQL \(String(describing: a)), Swift \(String(describing: b))")
        }
    }
}
