import PluginSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thompson sampling with Beta posteriors whose evidence decays with a half-life, so the
/// policy follows rewards that drift (Raj & Kalyani 2017, in continuous time).
///
/// The decay stays additive: an update at time t adds r·e^{λt} successes and
/// (1 − r)·e^{λt} failures, and choose at time t reads the sums scaled by e^{−λt}, with
/// λ = ln 2 / half_life. e^{λt} overflows after about 1000 half-lives since the
/// experiment's time origin; choose and update then return a numeric error.
///
/// Config: `half_life` in seconds (> 0, default 86400), `prior_alpha`, `prior_beta`
/// (default 1, 1), `samples` (1000). State: per arm (scaled successes, scaled failures).
public struct DiscountedThompson: Policy {
    public static let name = "discounted-thompson"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe, .costlyProbabilities]
    let arms: Int
    let lambda: Double
    let alpha: Double
    let beta: Double
    let samples: Int

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["half_life", "prior_alpha", "prior_beta", "samples"])
        arms = setup.armCount
        lambda = log(2) / (try setup.config.positive("half_life", default: 86_400))
        alpha = try setup.config.positive("prior_alpha", default: 1)
        beta = try setup.config.positive("prior_beta", default: 1)
        samples = try setup.config.integer("samples", default: 1000, in: 1...1_000_000)
    }

    public var stateLength: Int { 2 * arms }

    func scale(_ exponent: Double) throws(PolicyError) -> Double {
        guard abs(exponent) <= 700 else {
            throw PolicyError(.numeric, "discounted-thompson: time \(exponent / lambda) s is over 1000 half-lives from the time origin")
        }
        return exp(exponent)
    }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        try PolicyMath.requireFinite(state, "the state")
        let decay = try scale(-lambda * request.time)
        return chooseBySampling(arms: arms, seed: request.seed, samples: samples, probabilities: probabilities) { i, rng in
            Distributions.beta(alpha + decay * state[2 * i], beta + decay * state[2 * i + 1], &rng)
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        guard (0...1).contains(request.reward) else {
            throw PolicyError(.invalidArgument, "discounted-thompson needs rewards in [0, 1]; got \(request.reward)")
        }
        let weight = try scale(lambda * request.time)
        delta[2 * request.arm] = request.reward * weight
        delta[2 * request.arm + 1] = (1 - request.reward) * weight
    }
}
