import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

typealias ResultsBody = ExperimentResults

/// Every figure of the statistics views, recomputed here in Swift from the same rows with
/// closed forms (erfc for normal and 1-degree chi-square tails, exp for 2 degrees).
@Suite("Statistics views and the results route")
struct StatisticsViewsTests {
    struct ArmData {
        var decisions = 0
        var rewards: [Double] = []
        var mean: Double { rewards.reduce(0, +) / Double(rewards.count) }
        var sd: Double {
            let m = mean
            return (rewards.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(rewards.count - 1)).squareRoot()
        }
    }

    func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }

    /// Runs `units` assignments; rewards a fraction of them with uneven values.
    func populate(_ client: some TestClientProtocol, key: String, units: Int) async throws -> [String: ArmData] {
        var data: [String: ArmData] = [:]
        for i in 0..<units {
            let a = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u\#(i)"}"#).decode(AssignResponse.self)
            data[a.variant, default: ArmData()].decisions += 1
            guard i % 4 != 3 else { continue }
            let value = a.variant == "treatment" ? Double(i % 5) / 4 : Double(i % 7) / 8
            _ = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": \#(value)}"#)
            data[a.variant, default: ArmData()].rewards.append(value)
        }
        return data
    }

    @Test("mean, sd, 95% CI, lift, Welch p-value and the sample-ratio check of a fixed split")
    func fixedSplit() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("stats")
            _ = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 3}], "salt": "stats-salt"}
                """)
            let data = try await populate(client, key: key, units: 240)
            let results = try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsBody.self)
            #expect(results.arms.map(\.arm) == ["control", "treatment"])
            let c = data["control"]!, t = data["treatment"]!
            for (row, arm, share) in [(results.arms[0], c, 0.25), (results.arms[1], t, 0.75)] {
                #expect(row.decisions == arm.decisions)
                #expect(row.rewards == arm.rewards.count)
                #expect(close(row.mean, arm.mean))
                #expect(close(row.sd, arm.sd))
                let half = 1.959963984540054 * arm.sd / Double(arm.rewards.count).squareRoot()
                #expect(close(row.ciLow, arm.mean - half))
                #expect(close(row.ciHigh, arm.mean + half))
                #expect(close(row.expectedDecisions, 240 * share))
            }
            #expect(results.arms[0].lift == nil && results.arms[0].pValue == nil)
            #expect(close(results.arms[1].lift, t.mean - c.mean))
            #expect(close(results.arms[1].relativeLift, (t.mean - c.mean) / c.mean))
            let z = (t.mean - c.mean) / (t.sd * t.sd / Double(t.rewards.count) + c.sd * c.sd / Double(c.rewards.count)).squareRoot()
            #expect(close(results.arms[1].pValue, erfc(abs(z) / 2.0.squareRoot()), 1e-9))
            let chi = pow(Double(c.decisions) - 60, 2) / 60 + pow(Double(t.decisions) - 180, 2) / 180
            #expect(close(results.sampleRatio.chiSquare, chi))
            #expect(results.sampleRatio.degreesOfFreedom == 1)
            #expect(close(results.sampleRatio.pValue, erfc((chi / 2).squareRoot()), 1e-9))
            #expect(results.hourly.reduce(0) { $0 + $1.decisions } == 240)
        }
    }

    @Test("for a bandit, the sample-ratio check uses the logged probabilities (3 arms, 2 degrees of freedom)")
    func banditSampleRatio() async throws {
        try await withApp { client in
            let key = TestStores.uniqueKey("stats-bandit")
            _ = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(key)", "arms": [{"name": "control"}, {"name": "treatment"}, {"name": "third"}], "policy": {"name": "epsilon-greedy", "config": {"epsilon": 0.5}}}
                """)
            _ = try await populate(client, key: key, units: 90)
            let rows = try await TestStores.query("SELECT arm_index, probabilities::text FROM switchboard.decisions WHERE experiment = $1", [key])
            var observed = [0.0, 0, 0], expected = [0.0, 0, 0]
            for row in rows {
                observed[Int(row[0]!)!] += 1
                let p = row[1]!.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").map { Double($0)! }
                for i in 0..<3 { expected[i] += p[i] }
            }
            let chi = (0..<3).reduce(0.0) { $0 + pow(observed[$1] - expected[$1], 2) / expected[$1] }
            let results = try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsBody.self)
            #expect(zip(results.arms.map(\.expectedDecisions), expected).allSatisfy { close($0, $1) })
            #expect(close(results.sampleRatio.chiSquare, chi))
            #expect(results.sampleRatio.degreesOfFreedom == 2)
            #expect(close(results.sampleRatio.pValue, exp(-chi / 2), 1e-9))
        }
    }

    @Test("the tail functions in SQL match closed forms across their range")
    func tailFunctions() async throws {
        _ = try await TestStores.stores()
        for z in [0.0, 0.3, 1.0, 1.96, 3.5, 6.0] {
            let p = try await TestStores.query("SELECT switchboard.normal_two_sided_p($1::float8)", [String(z)])[0][0].flatMap(Double.init)
            #expect(close(p, erfc(z / 2.0.squareRoot()), 1e-10), "z = \(z)")
        }
        for x in [0.01, 0.5, 2.0, 7.5, 30.0] {
            let df2 = try await TestStores.query("SELECT switchboard.chi_square_p($1::float8, 2)", [String(x)])[0][0].flatMap(Double.init)
            #expect(close(df2, exp(-x / 2), 1e-10), "x = \(x)")
            let df1 = try await TestStores.query("SELECT switchboard.chi_square_p($1::float8, 1)", [String(x)])[0][0].flatMap(Double.init)
            #expect(close(df1, erfc((x / 2).squareRoot()), 1e-10), "x = \(x)")
        }
    }
}
