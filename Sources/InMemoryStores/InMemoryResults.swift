import ExperimentService
import Foundation

/// An experiment's results computed in Swift from the in-memory record, with the
/// definitions of the SQL views (`sql/005_statistics.sql`): per arm the decisions, the
/// `reward` metric's count, mean and sample standard deviation, its normal 95 % interval,
/// the lift against control with Welch's z-test, the expected decisions (the sum of each
/// decision's probability for the arm) and the sample-ratio chi-square test; per hour and
/// arm the decisions, rewards and mean. An independent computation of the same figures.
public struct InMemoryResults: ResultsStore {
    let log: InMemoryDecisionLog
    let experiments: any ExperimentRepository

    public init(log: InMemoryDecisionLog, experiments: any ExperimentRepository) {
        self.log = log
        self.experiments = experiments
    }

    public func results(experiment key: String) async throws -> ExperimentResults {
        guard let experiment = try await experiments.find(key: key) else {
            return ExperimentResults(experiment: key, arms: [], sampleRatio: .init(chiSquare: nil, degreesOfFreedom: nil, pValue: nil), hourly: [])
        }
        let (decisions, rewards) = log.record.read { r in
            (r.decisions.filter { $0.decision.experiment == key }, r.rewardsByKey)
        }
        let armCount = experiment.arms.count
        var values = [[Double]](repeating: [], count: armCount)
        var counts = [Int](repeating: 0, count: armCount)
        var expected = [Double](repeating: 0, count: armCount)
        var hours: [HourArm: (decisions: Int, rewards: [Double])] = [:]
        for d in decisions where counts.indices.contains(d.decision.armIndex) {
            let arm = d.decision.armIndex
            counts[arm] += 1
            for (i, p) in (d.decision.probabilities ?? []).enumerated() where i < armCount { expected[i] += p }
            let reward = rewards[.init(decision: d.decision.id, metric: "reward")]?.reward.value
            if let reward { values[arm].append(reward) }
            let hourKey = HourArm(hour: Self.hour(d.at), arm: arm)
            hours[hourKey, default: (0, [])].decisions += 1
            if let reward { hours[hourKey, default: (0, [])].rewards.append(reward) }
        }
        let control = experiment.controlIndex
        let summaries = values.map(Summary.init)
        let arms = experiment.arms.indices.map { i -> ExperimentResults.Arm in
            let s = summaries[i], c = summaries[control], isControl = i == control
            let half = s.sd.map { 1.959963984540054 * $0 / Double(s.count).squareRoot() }
            var p: Double?
            if !isControl, s.count > 1, c.count > 1, let m = s.mean, let cm = c.mean, let sd = s.sd, let csd = c.sd {
                let variance = sd * sd / Double(s.count) + csd * csd / Double(c.count)
                if variance > 0 { p = erfc(abs((m - cm) / variance.squareRoot()) / 2.0.squareRoot()) }
            }
            let lift = isControl ? nil : s.mean.flatMap { m in c.mean.map { m - $0 } }
            let relative = isControl ? nil : lift.flatMap { l in c.mean.flatMap { $0 != 0 ? l / abs($0) : nil } }
            return ExperimentResults.Arm(
                arm: experiment.arms[i].name, isControl: isControl, decisions: counts[i], expectedDecisions: expected[i], rewards: s.count,
                mean: s.mean, sd: s.sd, ciLow: s.mean.flatMap { m in half.map { m - $0 } }, ciHigh: s.mean.flatMap { m in half.map { m + $0 } },
                lift: lift, relativeLift: relative, pValue: p)
        }
        let tested = arms.filter { $0.expectedDecisions > 0 }
        let chi = tested.isEmpty ? nil : tested.reduce(0.0) { $0 + pow(Double($1.decisions) - $1.expectedDecisions, 2) / $1.expectedDecisions }
        let df = tested.count - 1
        let sampleRatio = ExperimentResults.SampleRatio(
            chiSquare: chi, degreesOfFreedom: df, pValue: df > 0 ? chi.map { Self.chiSquareSurvival($0, degrees: df) } : nil)
        let hourly = hours.sorted { ($0.key.hour, $0.key.arm) < ($1.key.hour, $1.key.arm) }.map { key, value in
            ExperimentResults.Hour(hour: key.hour, arm: experiment.arms[key.arm].name, decisions: value.decisions, rewards: value.rewards.count,
                                   mean: value.rewards.isEmpty ? nil : value.rewards.reduce(0, +) / Double(value.rewards.count))
        }
        return ExperimentResults(experiment: key, arms: arms, sampleRatio: sampleRatio, hourly: hourly)
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
