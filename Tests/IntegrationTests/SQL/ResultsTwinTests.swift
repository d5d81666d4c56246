@testable import ExperimentService
import Foundation
import InMemoryStores
import PluginSupport
import Testing

/// The statistics views against the in-memory stores' results, an independent Swift
/// computation of the same definitions, on the same rows.
@Suite("The results of the SQL views equal the in-memory stores' on the same rows")
struct ResultsTwinTests {
    @Test("three arms with uneven probabilities: per-arm figures, lift, p-values, the 2-degree sample-ratio test, hours")
    func sameRowsSameResults() async throws {
        let stores = try await TestStores.stores()
        let memory = InMemoryStores()
        let key = TestStores.uniqueKey("twin")
        var spec = ExperimentSpec(key: key, arms: [.init(name: "control"), .init(name: "b"), .init(name: "c")])
        spec.policy = Experiment.PolicyReference(name: "thompson", version: nil, config: nil)
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
            if i % 7 == 0 { rows.append(.reward(Reward(for: d, metric: "revenue", value: 9))) }
        }
        _ = try PostgresBatchWriter(url: TestStores.databaseURL).write(rows).get()
        _ = try memory.decisionLog.makeBatchWriter().write(rows).get()

        let sql = try await stores.results.results(experiment: key)
        let swift = try await memory.stores.results.results(experiment: key)
        func close(_ a: Double?, _ b: Double?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return abs(a - b) <= 1e-9 * max(1, abs(b))
        }
        #expect(sql.arms.count == 3 && swift.arms.count == 3)
        for (s, m) in zip(sql.arms, swift.arms) {
            #expect(s.arm == m.arm && s.isControl == m.isControl && s.decisions == m.decisions && s.rewards == m.rewards)
            for (a, b) in [(s.expectedDecisions, m.expectedDecisions), (s.mean, m.mean), (s.sd, m.sd), (s.ciLow, m.ciLow), (s.ciHigh, m.ciHigh),
                           (s.lift, m.lift), (s.relativeLift, m.relativeLift), (s.pValue, m.pValue)] as [(Double?, Double?)] {
                #expect(close(a, b), "arm \(s.arm): SQL \(String(describing: a)), Swift \(String(describing: b))")
            }
        }
        #expect(sql.sampleRatio.degreesOfFreedom == 2 && swift.sampleRatio.degreesOfFreedom == 2)
        #expect(close(sql.sampleRatio.chiSquare, swift.sampleRatio.chiSquare))
        #expect(close(sql.sampleRatio.pValue, swift.sampleRatio.pValue), "\(sql.sampleRatio) vs \(swift.sampleRatio)")
        #expect(sql.hourly.map(\.decisions).reduce(0, +) == 300)
        // The two stores stamp rows with their own clocks; an hour boundary between them is possible but rare.
        if sql.hourly.map(\.hour) == swift.hourly.map(\.hour) {
            #expect(zip(sql.hourly, swift.hourly).allSatisfy { $0.arm == $1.arm && $0.decisions == $1.decisions && $0.rewards == $1.rewards && close($0.mean, $1.mean) })
        }
    }
}
