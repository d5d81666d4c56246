import PluginSupport

/// Every arm with the same probability, independently per decision. The baseline.
public struct UniformRandom: Policy {
    public static let name = "uniform"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe]
    let arms: Int

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys([])
        arms = setup.armCount
    }

    public var stateLength: Int { 0 }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        if let p = probabilities { PolicyMath.uniform(over: arms, into: p) { _ in true } }
        var rng = SplitMix64(seed: request.seed)
        return Distributions.index(arms, &rng)
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {}
}
