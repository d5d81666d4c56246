import ExperimentService
import Foundation

/// An experiment's results computed in Swift from the raw in-memory record, with the
/// definitions of the SQL views (`sql/011_metrics_phases_rollups.sql`), which read rollups
/// instead: per metric and arm the decisions, the rewards' count, mean and sample standard
/// deviation (two passes over the values, not sums of squares), the normal 95 % interval,
/// the lift against control with Welch's z-test, the always-valid confidence sequences and
/// p-value, the guardrail flag, the expected decisions and the sample-ratio chi-square
/// test; per hour the primary metric. An independent computation of the same figures.
public struct InMemoryResults: ResultsStore {
    let log: InMemoryDecisionLog
    let experiments: any ExperimentRepository

    public init(log: InMemoryDecisionLog, experiments: any ExperimentRepository) {
        self.log = log
        self.experiments = experiments
    }

    public func results(for experiment: Experiment, phase: Int?) async throws -> ExperimentResults {
        let key = experiment.key
        let (decisions, rewards, byID, predicted) = log.record.read { r in
            (r.decisions.filter { $0.decision.experiment == key }, r.rewards.filter { $0.reward.experiment == key }, r.decisionsByID,
             r.classes.filter { $0.experiment == key })
        }
        let armCount = experiment.arms.count, control = experiment.controlIndex
        func inPhase(_ p: Int) -> Bool { phase == nil || phase == p }
        var counts = [Int](repeating: 0, count: armCount)
        var expected = [Double](repeating: 0, count: armCount)
        for d in decisions where counts.indices.contains(d.decision.armIndex) && inPhase(d.decision.phase) {
            counts[d.decision.armIndex] += 1
            for (i, p) in (d.decision.probabilities ?? []).enumerated() where i < armCount { expected[i] += p }
        }
        var values: [String: [[Double]]] = [:]
        for r in rewards {
            guard let d = byID[r.reward.decisionID]?.decision, inPhase(d.phase), d.armIndex < armCount else { continue }
            values[r.reward.metric, default: [[Double]](repeating: [], count: armCount)][d.armIndex].append(r.reward.value)
        }
        let metrics = ExperimentResults.ordered(experiment.metrics).map { metric in
            let summaries = (values[metric.name] ?? [[Double]](repeating: [], count: armCount)).map(Summary.init)
            return ExperimentResults.MetricResults(metric: metric, arms: experiment.arms.indices.map { i in
                Self.arm(name: experiment.arms[i].name, isControl: i == control, decisions: counts[i], expected: expected[i],
                         s: summaries[i], c: summaries[control], metric: metric, analysis: experiment.analysis)
            })
        }
        let tested = experiment.arms.indices.filter { expected[$0] > 0 }
        let chi = tested.isEmpty ? nil : tested.reduce(0.0) { $0 + pow(Double(counts[$1]) - expected[$1], 2) / expected[$1] }
        let df = tested.count - 1
        let sampleRatio = ExperimentResults.SampleRatio(
            chiSquare: chi, degreesOfFreedom: df, pValue: df > 0 ? chi.map { Self.chiSquareSurvival($0, degrees: df) } : nil)
        let (hourly, cumulative) = Self.hours(experiment, decisions: decisions, rewards: rewards)
        var results = ExperimentResults(experiment: key, analysis: experiment.analysis, phase: phase,
                                        phases: try await experiments.phases(key: key), metrics: metrics,
                                        sampleRatio: sampleRatio, hourly: hourly, cumulative: cumulative,
                                        traffic: decisions.max { $0.at < $1.at }?.decision.probabilities)
        var classes: [ClassKey: Int] = [:]
        for p in predicted where p.armIndex < armCount && inPhase(p.phase) {
            for c in p.classes { classes[ClassKey(arm: p.armIndex, outputClass: c), default: 0] += 1 }
        }
        results.outputs = ExperimentResults.outputs(arms: experiment.arms, decisions: counts,
                                                    rows: classes.map { ($0.key.arm, $0.key.outputClass, $0.value) })
        results.addWarnings()
        return results
    }

    struct ClassKey: Hashable {
        var arm: Int
        var outputClass: Int64
    }

    /// Nothing to merge: the in-memory results read the raw rows.
    public func compactRollups() async throws -> Int { 0 }

    /// One arm's figures for one metric, as `switchboard.metric_statistics` defines them.
    static func arm(name: String, isControl: Bool, decisions: Int, expected: Double, s: Summary, c: Summary, metric: Metric,
                    analysis: Analysis) -> ExperimentResults.Arm {
        let n = Double(s.count)
        let half = s.sd.map { z * $0 / n.squareRoot() }
        let seqHalf = s.sd.map { sequentialHalfwidth(s2: $0 * $0, n: n) }
        var liftVariance: Double?
        if !isControl, s.count > 1, c.count > 1, let sd = s.sd, let csd = c.sd {
            liftVariance = sd * sd / n + csd * csd / Double(c.count)
        }
        let lift = isControl ? nil : s.mean.flatMap { m in c.mean.map { m - $0 } }
        var arm = ExperimentResults.Arm(
            arm: name, isControl: isControl, decisions: decisions, expectedDecisions: expected, rewards: s.count,
            mean: s.mean, sd: s.sd, ciLow: s.mean.flatMap { m in half.map { m - $0 } }, ciHigh: s.mean.flatMap { m in half.map { m + $0 } },
            lift: lift, relativeLift: lift.flatMap { l in c.mean.flatMap { $0 != 0 ? l / abs($0) : nil } },
            pValue: nil)
        (arm.seqCILow, arm.seqCIHigh) = (s.mean.flatMap { m in seqHalf.map { m - $0 } }, s.mean.flatMap { m in seqHalf.map { m + $0 } })
        if let lift, let v = liftVariance {
            let total = n + Double(c.count)
            let liftHalf = z * v.squareRoot(), seqLiftHalf = sequentialHalfwidth(s2: total * v, n: total)
            (arm.liftCILow, arm.liftCIHigh) = (lift - liftHalf, lift + liftHalf)
            (arm.seqLiftCILow, arm.seqLiftCIHigh) = (lift - seqLiftHalf, lift + seqLiftHalf)
            if v > 0 {
                arm.pValue = erfc(abs(lift / v.squareRoot()) / 2.0.squareRoot())
                arm.seqPValue = sequentialPValue(estimate: lift, s2: total * v, n: total)
            }
            if !metric.primary {
                let (low, high) = analysis == .sequential ? (lift - seqLiftHalf, lift + seqLiftHalf) : (lift - liftHalf, lift + liftHalf)
                arm.guardrailViolated = metric.direction == .increase ? high < 0 : low > 0
            }
        }
        return arm
    }

    /// Per hour and arm, the primary metric: decisions made in the hour and rewards received
    /// in it; and the rewards accumulated up to each hour with their intervals.
    static func hours(_ experiment: Experiment, decisions: [InMemoryRecord.StoredDecision],
                      rewards: [InMemoryRecord.StoredReward]) -> ([ExperimentResults.Hour], [ExperimentResults.Cumulative]) {
        let primary = experiment.primaryMetric.name, armCount = experiment.arms.count
        var cells: [HourArm: (decisions: Int, rewards: [Double])] = [:]
        for d in decisions where d.decision.armIndex < armCount {
            cells[HourArm(hour: hour(d.at), arm: d.decision.armIndex), default: (0, [])].decisions += 1
        }
        for r in rewards where r.reward.metric == primary && r.reward.armIndex < armCount {
            cells[HourArm(hour: hour(r.at), arm: r.reward.armIndex), default: (0, [])].rewards.append(r.reward.value)
        }
        let ordered = cells.sorted { ($0.key.hour, $0.key.arm) < ($1.key.hour, $1.key.arm) }
        var running = [[Double]](repeating: [], count: armCount)
        var hourly: [ExperimentResults.Hour] = [], cumulative: [ExperimentResults.Cumulative] = []
        for (key, cell) in ordered {
            let name = experiment.arms[key.arm].name
            hourly.append(.init(hour: key.hour, arm: name, decisions: cell.decisions, rewards: cell.rewards.count,
                                mean: cell.rewards.isEmpty ? nil : cell.rewards.reduce(0, +) / Double(cell.rewards.count)))
            running[key.arm] += cell.rewards
            let s = Summary(running[key.arm]), n = Double(s.count)
            let half = s.sd.map { z * $0 / n.squareRoot() }, seqHalf = s.sd.map { sequentialHalfwidth(s2: $0 * $0, n: n) }
            func shifted(_ h: Double?, _ sign: Double) -> Double? { s.mean.flatMap { m in h.map { m + sign * $0 } } }
            cumulative.append(.init(hour: key.hour, arm: name, rewards: s.count, mean: s.mean, ciLow: shifted(half, -1), ciHigh: shifted(half, 1),
                                    seqCILow: shifted(seqHalf, -1), seqCIHigh: shifted(seqHalf, 1)))
        }
        return (hourly, cumulative)
    }

    /// The 97.5 % quantile of the standard normal distribution.
    static let z = 1.959963984540054

    /// The always-valid confidence sequence (Waudby-Smith et al. 2023) at level 0.05, tightest
    /// near 5,000 observations: half its width for `n` observations of variance `s2`.
    static func sequentialHalfwidth(s2: Double, n: Double, alpha: Double = 0.05, tuning: Double = 5_000) -> Double {
        let rho2 = (-2 * Foundation.log(alpha) + Foundation.log(-2 * Foundation.log(alpha) + 1)) / tuning
        return (s2 * 2 * (n * rho2 + 1) / (n * n * rho2) * Foundation.log((n * rho2 + 1).squareRoot() / alpha)).squareRoot()
    }

    /// The always-valid p-value: min(1, 1 / E) for the mixture e-value E.
    static func sequentialPValue(estimate: Double, s2: Double, n: Double, alpha: Double = 0.05, tuning: Double = 5_000) -> Double {
        let rho2 = (-2 * Foundation.log(alpha) + Foundation.log(-2 * Foundation.log(alpha) + 1)) / tuning
        let logE = rho2 * n * n * estimate * estimate / (2 * s2 * (n * rho2 + 1)) - Foundation.log((n * rho2 + 1).squareRoot())
        return min(1, exp(-logE))
    }

    /// Count, mean and sample standard deviation (nil below two values, as `stddev_samp`).
    struct Summary {
        var count: Int
        var mean: Double?
        var sd: Double?

        init(_ values: [Double]) {
            count = values.count
            guard !values.isEmpty else { return }
            let m = values.reduce(0, +) / Double(values.count)
            mean = m
            if values.count > 1 { sd = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot() }
        }
    }

    static func hour(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds - seconds % 3600)))
    }

    /// An hour (`YYYY-MM-DDTHH:00:00Z`, as the view formats it) and an arm.
    struct HourArm: Hashable {
        var hour: String
        var arm: Int
    }

    /// P(X > x) for a chi-square variable with `degrees` degrees of freedom: the
    /// regularized upper incomplete gamma function Q(k/2, x/2), by its series below
    /// a + 1 and Lentz's continued fraction above (Numerical Recipes, 6.2).
    static func chiSquareSurvival(_ x: Double, degrees: Int) -> Double {
        let a = Double(degrees) / 2, z = x / 2
        guard z > 0 else { return 1 }
        let logPrefix = -z + a * Foundation.log(z) - lgamma(a)
        if z < a + 1 {
            var term = 1 / a, sum = term, n = a
            for _ in 0..<1_000 {
                n += 1
                term *= z / n
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        var b = z + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d
        for i in 1...1_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < 1e-300 { d = 1e-300 }
            c = b + an / c
            if abs(c) < 1e-300 { c = 1e-300 }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logPrefix) * h
    }
}
