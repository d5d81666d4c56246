import Foundation
import PluginSupport

extension ExperimentResults {
    /// A belief about an arm's mean of the primary metric, from its rewards: Beta(1 + sum,
    /// 1 + failures) for a binary metric (a uniform prior, as a Bernoulli Thompson policy
    /// starts), otherwise Normal(mean, sd / √n).
    public enum Posterior: Sendable, Equatable {
        case beta(alpha: Double, beta: Double)
        case normal(mean: Double, sd: Double)

        /// The posterior of an arm's primary-metric figures, or nil with too few rewards.
        public init?(_ arm: Arm, kind: Metric.Kind) {
            if kind == .binary {
                let successes = (arm.mean ?? 0) * Double(arm.rewards)
                self = .beta(alpha: 1 + successes, beta: 1 + Double(arm.rewards) - successes)
            } else {
                guard let mean = arm.mean, let sd = arm.sd, arm.rewards > 1, sd > 0 else { return nil }
                self = .normal(mean: mean, sd: sd / Double(arm.rewards).squareRoot())
            }
        }

        /// The density at `x`.
        public func density(_ x: Double) -> Double {
            switch self {
            case .beta(let a, let b):
                guard x > 0, x < 1 else { return 0 }
                let logKernel: Double = (a - 1) * log(x) + (b - 1) * log1p(-x)
                let logNorm: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
                return exp(logKernel + logNorm)
            case .normal(let m, let s):
                let z = (x - m) / s
                return exp(-z * z / 2) / (s * (2 * Double.pi).squareRoot())
            }
        }

        /// A central interval holding nearly all the mass (for plotting).
        public var support: ClosedRange<Double> {
            switch self {
            case .beta(let a, let b):
                let m = a / (a + b), s = (a * b / ((a + b) * (a + b) * (a + b + 1))).squareRoot()
                return max(0, m - 5 * s)...min(1, m + 5 * s)
            case .normal(let m, let s): return (m - 5 * s)...(m + 5 * s)
            }
        }

        func draw(_ rng: inout SplitMix64) -> Double {
            switch self {
            case .beta(let a, let b): Distributions.beta(a, b, &rng)
            case .normal(let m, let s): m + s * Distributions.normal(&rng)
            }
        }
    }

    /// The primary metric's posterior per arm (nil for an arm with too few rewards).
    public var posteriors: [Posterior?] {
        let kind = metrics.first(where: \.metric.primary)?.metric.kind ?? .continuous
        return arms.map { Posterior($0, kind: kind) }
    }

    /// The probability that each arm is best on the primary metric (highest mean, or lowest
    /// for a metric to decrease), by 20,000 seeded draws from the posteriors; nil until
    /// every arm has a posterior.
    public var probabilityBest: [Double]? {
        let posteriors = self.posteriors.compactMap { $0 }
        guard posteriors.count == arms.count, arms.count > 1 else { return nil }
        let lower = metrics.first(where: \.metric.primary)?.metric.direction == .decrease
        var rng = SplitMix64(seed: 0x5b_e571)
        var wins = [Int](repeating: 0, count: arms.count)
        let draws = 20_000
        for _ in 0..<draws {
            var best = 0, bestValue = lower ? Double.infinity : -Double.infinity
            for (i, p) in posteriors.enumerated() {
                let v = p.draw(&rng)
                if lower ? v < bestValue : v > bestValue { (best, bestValue) = (i, v) }
            }
            wins[best] += 1
        }
        return wins.map { Double($0) / Double(draws) }
    }
}
