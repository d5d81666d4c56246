import PluginSupport

/// Thompson sampling for real-valued rewards with unknown mean and variance per arm
/// (Normal-inverse-gamma conjugate prior). Choose draws σ² ~ InvGamma(αₙ, βₙ),
/// μ ~ N(μₙ, σ²/κₙ) per arm and takes the largest μ.
///
/// Config: `prior_mean` (0), `prior_strength` κ₀ > 0 (1), `prior_alpha` > 0 (1),
/// `prior_beta` > 0 (1), `samples` for probability estimates (1000).
/// State: per arm (count, sum, sum of squares).
public struct ThompsonGaussian: Policy {
    public static let name = "thompson-gaussian"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe, .costlyProbabilities]
    let arms: Int
    let mu0: Double, kappa0: Double, alpha0: Double, beta0: Double
    let samples: Int

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["prior_mean", "prior_strength", "prior_alpha", "prior_beta", "samples"])
        arms = setup.armCount
        mu0 = try setup.config.number("prior_mean", default: 0, in: -1e12...1e12)
        kappa0 = try setup.config.positive("prior_strength", default: 1)
        alpha0 = try setup.config.positive("prior_alpha", default: 1)
        beta0 = try setup.config.positive("prior_beta", default: 1)
        samples = try setup.config.integer("samples", default: 1000, in: 1...1_000_000)
    }

    public var stateLength: Int { 3 * arms }

    func draw(_ state: UnsafeBufferPointer<Double>, _ i: Int, _ rng: inout SplitMix64) -> Double {
        let n = state[3 * i], sum = state[3 * i + 1], sumsq = state[3 * i + 2]
        let kappa = kappa0 + n
        let mean = n > 0 ? sum / n : 0
        let mu = (kappa0 * mu0 + sum) / kappa
        let alpha = alpha0 + n / 2
        let squares = n > 0 ? max(0, sumsq - sum * sum / n) : 0
        let beta = beta0 + 0.5 * squares + kappa0 * n * (mean - mu0) * (mean - mu0) / (2 * kappa)
        let variance = beta / Distributions.gamma(shape: alpha, &rng)
        return mu + (variance / kappa).squareRoot() * Distributions.normal(&rng)
    }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        try PolicyMath.requireFinite(state, "the state")
        return chooseBySampling(arms: arms, seed: request.seed, samples: samples, probabilities: probabilities) {
            draw(state, $0, &$1)
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        let r = request.reward
        delta[3 * request.arm] = 1
        delta[3 * request.arm + 1] = r
        delta[3 * request.arm + 2] = r * r
    }
}
