import PluginSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deterministic weighted A/B/n split: the arm of a unit is a pure function of
/// (hash version, experiment salt, unit, arm names, weights). Any replica gives the
/// same answer with no I/O.
///
/// The split is *weighted rendezvous hashing*: each arm draws an exponential "arrival
/// time" `-ln(u) / weight` from the unit's hash, and the earliest arm wins. Arm `i`
/// therefore wins with probability `weight[i] / sum(weights)`, and changing one arm's
/// weight moves only units into that arm (when it grows) or out of it (when it
/// shrinks): units never shuffle between the other arms. Arms are keyed by name, so
/// reordering them moves nobody either.
public struct WeightedHashSplit: Sendable {
    /// One arm of the split.
    public struct Arm: Sendable, Equatable {
        public var name: String
        public var weight: Double
        public init(name: String, weight: Double) {
            self.name = name
            self.weight = weight
        }
    }

    /// Why a split could not be built.
    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case noArms
        case invalidWeight(arm: String, weight: Double)
        case allWeightsZero
        case unsupportedHashVersion(Int)

        public var description: String {
            switch self {
            case .noArms: "a split needs at least one arm"
            case .invalidWeight(let arm, let weight): "arm '\(arm)' has weight \(weight); weights must be finite and not negative"
            case .allWeightsZero: "at least one arm must have a positive weight"
            case .unsupportedHashVersion(let v): "hash version \(v) is not supported (supported: \(StableHash.supportedVersions))"
            }
        }
    }

    public let salt: String
    public let hashVersion: Int
    public let arms: [Arm]
    /// Each arm's share of traffic, `weight / sum(weights)`: the propensity of choosing it.
    public let shares: [Double]
    private let armKeys: [UInt64]

    /// Builds a split; throws ``ConfigurationError`` for invalid weights.
    public init(salt: String, arms: [Arm], hashVersion: Int = 1) throws(ConfigurationError) {
        guard StableHash.supportedVersions.contains(hashVersion) else { throw .unsupportedHashVersion(hashVersion) }
        guard !arms.isEmpty else { throw .noArms }
        for arm in arms where !(arm.weight.isFinite && arm.weight >= 0) {
            throw .invalidWeight(arm: arm.name, weight: arm.weight)
        }
        let total = arms.reduce(0) { $0 + $1.weight }
        guard total > 0 else { throw .allWeightsZero }
        self.salt = salt
        self.hashVersion = hashVersion
        self.arms = arms
        self.shares = arms.map { $0.weight / total }
        self.armKeys = arms.map { StableHash.mix(StableHash.fnv1a($0.name.utf8)) }
    }

    /// The arm index for `unit`, and its propensity (the arm's share).
    public func assign(unit: String) -> (arm: Int, propensity: Double) {
        let arm = assign(unitHash: StableHash.unitHash(salt: salt, unit: unit))
        return (arm, shares[arm])
    }

    /// The arm index for a unit's salted hash (``StableHash/unitHash(salt:unit:)``).
    public func assign(unitHash base: UInt64) -> Int {
        var best = -1
        var bestTime = Double.infinity
        for i in arms.indices where arms[i].weight > 0 {
            let u = StableHash.unitInterval(StableHash.mix(base ^ armKeys[i]))
            let time = -log(u) / arms[i].weight
            if time < bestTime {
                bestTime = time
                best = i
            }
        }
        return best
    }
}
