import Foundation
import PluginSupport
import Testing

/// The always-valid statistics of `sql/011_metrics_phases_rollups.sql` (the asymptotic
/// confidence sequence of Waudby-Smith et al. 2023) against what they promise and against
/// computations made another way.
@Suite("Peeking-safe statistics: confidence sequences and always-valid p-values in SQL")
struct SequentialStatisticsTests {
    /// One look at one simulated experiment: the lift of B over A, its variance, and the
    /// number of rewards behind it.
    struct Look {
        var experiment: Int
        var lift: Double
        var variance: Double
        var n: Double
    }

    /// A/A experiments (both arms convert at 10 %), each looked at after every 100 units up
    /// to 3,000: the looks of one experiment, in order.
    static func simulate(experiments: Int, seed: UInt64) -> [Look] {
        var rng = SplitMix64(seed: seed)
        var looks: [Look] = []
        for e in 0..<experiments {
            var n = [0.0, 0.0], sum = [0.0, 0.0]
            for unit in 1...3_000 {
                let arm = rng.nextUnit() < 0.5 ? 0 : 1
                n[arm] += 1
                if rng.nextUnit() < 0.1 { sum[arm] += 1 }
                guard unit % 100 == 0, n[0] > 1, n[1] > 1 else { continue }
                // Sample variances of 0/1 values, as the views compute them from the sums.
                let v = (0...1).map { a in (sum[a] - sum[a] * sum[a] / n[a]) / (n[a] - 1) }
                let variance = v[1] / n[1] + v[0] / n[0]
                guard variance > 0 else { continue }
                looks.append(Look(experiment: e, lift: sum[1] / n[1] - sum[0] / n[0], variance: variance, n: n[0] + n[1]))
            }
        }
        return looks
    }

    @Test("A/A experiments looked at every 100 units: the sequential false-positive rate stays under 5 %, the fixed-horizon one does not")
    func peekingAA() async throws {
        _ = try await TestStores.stores()  // migrated
        let looks = Self.simulate(experiments: 1_000, seed: 20_261_206)
        func array<T>(_ values: [T]) -> String { "{" + values.map { "\($0)" }.joined(separator: ",") + "}" }
        let rows = try await TestStores.query(
            """
            WITH looks AS (
                SELECT experiment, lift, variance, n,
                       switchboard.normal_two_sided_p(lift / sqrt(variance)) AS p,
                       switchboard.sequential_p_value(lift, n * variance, n, 0.05, 5000) AS seq_p,
                       switchboard.sequential_halfwidth(n * variance, n, 0.05, 5000) AS seq_half
                FROM unnest($1::integer[], $2::float8[], $3::float8[], $4::float8[]) AS t(experiment, lift, variance, n))
            SELECT count(DISTINCT experiment),
                   count(DISTINCT experiment) FILTER (WHERE p < 0.05),
                   count(DISTINCT experiment) FILTER (WHERE seq_p < 0.05),
                   count(*) FILTER (WHERE (seq_p < 0.05) <> (abs(lift) > seq_half) AND abs(abs(lift) - seq_half) > 1e-9 * seq_half),
                   count(*) FILTER (WHERE seq_half < 1.959963984540054 * sqrt(variance))
            FROM looks
            """,
            [array(looks.map(\.experiment)), array(looks.map(\.lift)), array(looks.map(\.variance)), array(looks.map(\.n))])
        let counts = rows[0].map { Int($0 ?? "") ?? -1 }
        let (total, fixed, sequential, inconsistent, narrower) = (counts[0], counts[1], counts[2], counts[3], counts[4])
        #expect(total == 1_000)
        // Looking 30 times, the fixed-horizon test finds a difference that is not there far
        // more often than its nominal 5 %; the confidence sequence keeps its promise.
        #expect(Double(fixed) / Double(total) > 0.10, "fixed horizon: \(fixed) of \(total) A/A experiments flagged at some look")
        #expect(Double(sequential) / Double(total) <= 0.05, "sequential: \(sequential) of \(total) A/A experiments flagged at some look")
        // The p-value and the interval agree (p < 0.05 exactly when 0 is outside), and the
        // sequence is always wider than the fixed-horizon interval.
        #expect(inconsistent == 0)
        #expect(narrower == 0)
    }

    @Test("the confidence sequence's width equals GrowthBook's published value and the inversion of its e-value")
    func independentComputation() async throws {
        // GrowthBook's test of SequentialTwoSidedTTest (gbstats, tests/frequentist/test_ttest.py):
        // estimate 0.50336 with standard error 0.33341 from 3,000 + 3,461 units, tuning
        // parameter 1,000, gives the 95 % sequence (-0.55844, 1.56516): half-width 1.06180.
        _ = try await TestStores.stores()  // migrated
        let published = try await TestStores.query("SELECT switchboard.sequential_halfwidth($1::float8 * $1::float8 * 6461, 6461, 0.05, 1000)", ["0.33341"])
        let half = try #require(Double(published[0][0] ?? ""))
        #expect(abs(half - 1.06180) < 5e-5, "half-width \(half)")

        // The e-value written from the paper, inverted by bisection: the half-width is the
        // estimate at which the always-valid p-value reaches alpha.
        func eValue(_ theta: Double, s2: Double, n: Double, alpha: Double, tuning: Double) -> Double {
            let rho2 = (-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tuning
            return exp(rho2 * n * n * theta * theta / (2 * s2 * (n * rho2 + 1))) / (n * rho2 + 1).squareRoot()
        }
        for (s2, n, alpha, tuning) in [(0.09, 200.0, 0.05, 5_000.0), (4.0, 5_000, 0.05, 5_000), (1.0, 1e6, 0.01, 5_000), (0.25, 40, 0.1, 100)] {
            var low = 0.0, high = 100.0
            for _ in 0..<200 {
                let mid = (low + high) / 2
                if eValue(mid, s2: s2, n: n, alpha: alpha, tuning: tuning) >= 1 / alpha { high = mid } else { low = mid }
            }
            let sql = try await TestStores.query(
                """
                SELECT switchboard.sequential_halfwidth($1::float8, $2::float8, $3::float8, $4::float8),
                       switchboard.sequential_p_value($5::float8, $1::float8, $2::float8, $3::float8, $4::float8)
                """,
                ["\(s2)", "\(n)", "\(alpha)", "\(tuning)", "\(high)"])
            let width = try #require(Double(sql[0][0] ?? "")), p = try #require(Double(sql[0][1] ?? ""))
            #expect(abs(width - high) <= 1e-9 * high, "s2 \(s2), n \(n): SQL \(width), bisection \(high)")
            #expect(abs(p - alpha) <= 1e-6 * alpha, "p-value at the boundary \(p)")
        }
    }
}
