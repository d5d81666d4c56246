import PluginSupport

/// Thompson sampling with Beta posteriors for rewards in [0, 1] (a fractional reward r
/// adds r successes and 1 − r failures). Choose draws θ_i ~ Beta(α + s_i, β + f_i) and
/// takes the largest. Arm probabilities have no closed form: they are estimated with
/// `samples` Monte Carlo draws when the host asks (declared `costlyProbabilities`).
///
/// Config: `prior_alpha`, `prior_beta` > 0 (default 1, 1), `samples` (default 1000).
/// State: per arm (successes, failures).
public struct ThompsonBernoulli: Policy {
    public static let name = "thompson"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe, .costlyProbabilities]
    let arms: Int
    let alpha: Double
    let beta: Double
    let samples: Int

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["prior_alpha", "prior_beta", "samples"])
        arms = setup.armCount
        alpha = try setup.config.positive("prior_alpha", default: 1)
        beta = try setup.config.positive("prior_beta", default: 1)
        samples = try setup.config.integer("samples", default: 1000, in: 1...1_000_000)
    }

    public var stateLength: Int { 2 * arms }

    @inline(__always) func draw(_ state: UnsafeBufferPointer<Double>, _ i: Int, _ rng: inout SplitMix64) -> Double {
        Distributions.beta(alpha + state[2 * i], beta + state[2 * i + 1], &rng)
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
        guard (0...1).contains(request.reward) else {
            throw PolicyError(.invalidArgument, "thompson (Bernoulli) needs rewards in [0, 1]; got \(request.reward); use thompson-gaussian for other rewards")
        }
        delta[2 * request.arm] = request.reward
        delta[2 * request.arm + 1] = 1 - request.reward
    }
}
