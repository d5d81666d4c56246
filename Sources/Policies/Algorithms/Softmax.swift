import PluginSupport

/// Softmax (Boltzmann) exploration: P(arm) ∝ exp(mean / temperature).
///
/// Config: `temperature` > 0 (default 0.1). State: per arm (rewards counted, reward sum);
/// an untried arm's mean is 0.
public struct Softmax: Policy {
    public static let name = "softmax"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe]
    let arms: Int
    let temperature: Double

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["temperature"])
        arms = setup.armCount
        temperature = try setup.config.positive("temperature", default: 0.1)
    }

    public var stateLength: Int { 2 * arms }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        let stats = CountSumStats(state: state)
        var rng = SplitMix64(seed: request.seed)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: arms) { scratch in
            let p = probabilities ?? scratch
            PolicyMath.softmax(arms, temperature: temperature, into: p) { stats.mean($0) }
            return Distributions.categorical(UnsafeBufferPointer(p), &rng)
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        CountSumStats.record(request.reward, arm: request.arm, into: delta)
    }
}
