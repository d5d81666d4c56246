import PluginSupport
import Policies
#if canImport(Glibc)
import Glibc
#endif

/// Seeded bandit simulations: a policy plays against a known problem, with the host's
/// job (owning the state, adding deltas) done here exactly as the service does it.
struct BanditSimulation {
    /// Cumulative pseudo-regret (sum of best mean − chosen mean) at each checkpoint.
    struct Outcome {
        var regretAt: [Int: Double]
        var finalRegret: Double
        var choices: [Int]
    }

    /// A Bernoulli arm problem: fixed means, or means that change at `switchAt`.
    struct BernoulliProblem {
        var means: [Double]
        var meansAfterSwitch: [Double]? = nil
        var switchAt: Int = .max
        func means(at t: Int) -> [Double] { t >= switchAt ? (meansAfterSwitch ?? means) : means }
    }

    static func run<P: Policy>(_ policy: P, problem: BernoulliProblem, horizon: Int, seed: UInt64,
                               checkpoints: [Int] = [], recordChoices: Bool = false) throws -> Outcome {
        var state = [Double](repeating: 0, count: policy.stateLength)
        state.withUnsafeMutableBufferPointer { policy.initialize(state: $0) }
        var delta = [Double](repeating: 0, count: policy.stateLength)
        var probabilities = [Double](repeating: 0, count: problem.means.count)
        let wantProbabilities = !P.capabilities.contains(.costlyProbabilities)
        var env = SplitMix64(seed: seed)
        var seeds = SplitMix64(seed: seed ^ 0xabcdef)
        var regret = 0.0
        var regretAt: [Int: Double] = [:]
        var choices: [Int] = []
        for t in 0..<horizon {
            let means = problem.means(at: t)
            let request = ChooseRequest(unitHash: seeds.next(), seed: seeds.next(), time: Double(t))
            let arm = try state.withUnsafeBufferPointer { s in
                try probabilities.withUnsafeMutableBufferPointer { p in
                    try policy.choose(state: s, request: request, probabilities: wantProbabilities ? p : nil)
                }
            }
            let reward: Double = env.nextUnit() < means[arm] ? 1 : 0
            regret += means.max()! - means[arm]
            if recordChoices { choices.append(arm) }
            for i in delta.indices { delta[i] = 0 }
            let propensity = wantProbabilities ? probabilities[arm] : 1
            try state.withUnsafeBufferPointer { s in
                try delta.withUnsafeMutableBufferPointer { d in
                    try policy.update(state: s, request: UpdateRequest(arm: arm, reward: reward, propensity: propensity, time: Double(t)), delta: d)
                }
            }
            for i in state.indices { state[i] += delta[i] }
            if checkpoints.contains(t + 1) { regretAt[t + 1] = regret }
        }
        return Outcome(regretAt: regretAt, finalRegret: regret, choices: choices)
    }

    /// A linear contextual problem: context x ∈ [0,1]^d, arm a pays Bernoulli(θ_a · x) with
    /// θ_a ≥ 0 summing to 1, so the best arm depends on the context.
    struct LinearProblem {
        var thetas: [[Double]]
        init(arms: Int, features: Int, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            thetas = (0..<arms).map { _ in
                // Sparse-ish weights so that arms really differ by context.
                let raw = (0..<features).map { _ in pow(rng.nextUnit(), 3) }
                let total = raw.reduce(0, +)
                return raw.map { $0 / total }
            }
        }
    }

    static func runContextual<P: Policy>(_ policy: P, problem: LinearProblem, horizon: Int, seed: UInt64) throws -> Double {
        let arms = problem.thetas.count, features = problem.thetas[0].count
        var state = [Double](repeating: 0, count: policy.stateLength)
        state.withUnsafeMutableBufferPointer { policy.initialize(state: $0) }
        var delta = [Double](repeating: 0, count: policy.stateLength)
        var probabilities = [Double](repeating: 0, count: arms)
        let wantProbabilities = !P.capabilities.contains(.costlyProbabilities)
        let contextual = P.capabilities.contains(.contextual)
        var env = SplitMix64(seed: seed)
        var seeds = SplitMix64(seed: seed ^ 0x1234)
        var regret = 0.0
        for t in 0..<horizon {
            let x = (0..<features).map { _ in env.nextUnit() }
            let means = problem.thetas.map { zip($0, x).reduce(0) { $0 + $1.0 * $1.1 } }
            let context = contextual ? x : []
            let arm = try state.withUnsafeBufferPointer { s in
                try context.withUnsafeBufferPointer { c in
                    try probabilities.withUnsafeMutableBufferPointer { p in
                        try policy.choose(state: s, request: ChooseRequest(context: c, seed: seeds.next(), time: Double(t)),
                                          probabilities: wantProbabilities ? p : nil)
                    }
                }
            }
            let reward: Double = env.nextUnit() < means[arm] ? 1 : 0
            regret += means.max()! - means[arm]
            for i in delta.indices { delta[i] = 0 }
            try state.withUnsafeBufferPointer { s in
                try context.withUnsafeBufferPointer { c in
                    try delta.withUnsafeMutableBufferPointer { d in
                        try policy.update(state: s, request: UpdateRequest(arm: arm, context: c, reward: reward,
                                                                           propensity: wantProbabilities ? probabilities[arm] : 1, time: Double(t)), delta: d)
                    }
                }
            }
            for i in state.indices { state[i] += delta[i] }
        }
        return regret
    }
}

extension PolicySetup {
    /// `arms` arms named arm0..., with a config given as a dictionary of numbers/strings.
    static func arms(_ count: Int, contextDimension: Int = 0, _ config: [String: PolicyConfig.Value] = [:]) -> PolicySetup {
        PolicySetup(armNames: (0..<count).map { "arm\($0)" }, contextDimension: contextDimension, config: PolicyConfig(config))
    }
}
