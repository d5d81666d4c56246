import PluginSupport

/// The fixed A/B/n split: arm shares follow the experiment's arm weights, and a unit's
/// arm is a pure function of its salted hash (``WeightedHashSplit``), so it is sticky on
/// every replica without any stored state. Used when an experiment names no policy.
public struct WeightedSplit: Policy {
    public static let name = "weighted-split"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe, .unitDeterministic]
    let split: WeightedHashSplit

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys([])
        do {
            // The salt is applied by the host in the unit hash; the split only needs names and weights.
            split = try WeightedHashSplit(salt: "", arms: zip(setup.armNames, setup.armWeights).map { .init(name: $0, weight: $1) })
        } catch {
            throw .config(error.description)
        }
    }

    public var stateLength: Int { 0 }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        if let p = probabilities { for i in split.shares.indices { p[i] = split.shares[i] } }
        return split.assign(unitHash: request.unitHash)
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {}
}
