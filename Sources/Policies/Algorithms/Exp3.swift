import PluginSupport

/// Exp3 (Auer et al. 2002) for adversarial rewards in [0, 1]. Weights are kept in log
/// space, so an update is additive: log w_arm += γ · (reward / propensity) / K, using the
/// propensity logged with the decision.
///
/// Config: `gamma` in (0, 1] (default 0.1). State: one log-weight per arm.
public struct Exp3: Policy {
    public static let name = "exp3"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe]
    let arms: Int
    let gamma: Double

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["gamma"])
        arms = setup.armCount
        gamma = try setup.config.number("gamma", default: 0.1, in: 1e-9...1)
    }

    public var stateLength: Int { arms }

    func probabilities(_ state: UnsafeBufferPointer<Double>, into p: UnsafeMutableBufferPointer<Double>) {
        PolicyMath.softmax(arms, temperature: 1, into: p) { state[$0] }
        for i in 0..<arms { p[i] = (1 - gamma) * p[i] + gamma / Double(arms) }
    }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities p: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        var rng = SplitMix64(seed: request.seed)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: arms) { scratch in
            let out = p ?? scratch
            probabilities(state, into: out)
            return Distributions.categorical(UnsafeBufferPointer(out), &rng)
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        guard (0...1).contains(request.reward) else {
            throw PolicyError(.invalidArgument, "exp3 needs rewards in [0, 1]; got \(request.reward)")
        }
        guard request.propensity > 0, request.propensity <= 1 else {
            throw PolicyError(.invalidArgument, "exp3 needs the decision's propensity in (0, 1]; got \(request.propensity)")
        }
        delta[request.arm] = gamma * (request.reward / request.propensity) / Double(arms)
    }
}
