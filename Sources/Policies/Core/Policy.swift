import PluginSupport

/// What a policy is configured with: the experiment's arms, its context dimension and
/// the policy's JSON configuration (already parsed).
public struct PolicySetup: Sendable {
    public var armNames: [String]
    public var armWeights: [Double]
    public var contextDimension: Int
    public var config: PolicyConfig

    public init(armNames: [String], armWeights: [Double]? = nil, contextDimension: Int = 0, config: PolicyConfig = PolicyConfig()) {
        self.armNames = armNames
        self.armWeights = armWeights ?? armNames.map { _ in 1 }
        self.contextDimension = contextDimension
        self.config = config
    }

    public var armCount: Int { armNames.count }
}

/// Capabilities a policy declares (the `SB_POLICY_CAP_*` flags of the C ABI).
public struct PolicyCapabilities: OptionSet, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let contextual = PolicyCapabilities(rawValue: 1 << 0)
    public static let ensemble = PolicyCapabilities(rawValue: 1 << 1)
    public static let threadSafe = PolicyCapabilities(rawValue: 1 << 2)
    public static let costlyProbabilities = PolicyCapabilities(rawValue: 1 << 3)
    /// The choice depends only on the unit's hash and the config (a fixed split).
    public static let unitDeterministic = PolicyCapabilities(rawValue: 1 << 4)
}

/// One decision to make (borrowed views: valid only during the call).
public struct ChooseRequest {
    public var context: UnsafeBufferPointer<Double>
    /// Stable hash of (experiment salt, unit).
    public var unitHash: UInt64
    /// Random per decision; the same seed gives the same choice.
    public var seed: UInt64
    /// Seconds since the experiment's time origin.
    public var time: Double

    public init(context: UnsafeBufferPointer<Double> = UnsafeBufferPointer(start: nil, count: 0), unitHash: UInt64 = 0, seed: UInt64, time: Double = 0) {
        self.context = context
        self.unitHash = unitHash
        self.seed = seed
        self.time = time
    }
}

/// One observed reward (borrowed views: valid only during the call).
public struct UpdateRequest {
    public var arm: Int
    public var context: UnsafeBufferPointer<Double>
    public var reward: Double
    /// The logged probability with which `arm` was chosen.
    public var propensity: Double
    public var time: Double

    public init(arm: Int, context: UnsafeBufferPointer<Double> = UnsafeBufferPointer(start: nil, count: 0), reward: Double, propensity: Double = 1, time: Double = 0) {
        self.arm = arm
        self.context = context
        self.reward = reward
        self.propensity = propensity
        self.time = time
    }
}

/// A bandit policy as a pure value: configured once, then `choose` reads host-owned
/// statistics and `update` writes an additive delta. Neither mutates anything else, so
/// any replica can recompute a decision from (state, request).
public protocol Policy: Sendable {
    static var name: String { get }
    static var version: String { get }
    static var capabilities: PolicyCapabilities { get }

    /// Validates the configuration; the error message says what to fix.
    init(setup: PolicySetup) throws(PolicyError)

    /// How many doubles of state this configuration needs.
    var stateLength: Int { get }

    /// Writes the prior into `state` (zeroed by the caller). Default: all zeros.
    func initialize(state: UnsafeMutableBufferPointer<Double>)

    /// Chooses an arm; fills `probabilities` (one per arm, summing to 1) when given.
    func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int

    /// Adds the effect of one reward to `delta` (zeroed by the caller).
    func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError)
}

extension Policy {
    public func initialize(state: UnsafeMutableBufferPointer<Double>) {}
}

/// A policy that can pick several arms at once and combine their outputs.
public protocol EnsemblePolicy: Policy {
    /// Chooses up to `maxArms` arms with weights summing to 1.
    func chooseSet(state: UnsafeBufferPointer<Double>, request: ChooseRequest, maxArms: Int) throws(PolicyError) -> [(arm: Int, weight: Double)]
    /// Combines equally long output vectors into `out`.
    func combine(outputs: [UnsafeBufferPointer<Double>], weights: [Double], into out: UnsafeMutableBufferPointer<Double>) throws(PolicyError)
}

/// A refusal from a policy, with the C ABI's error code.
public struct PolicyError: Error, Equatable, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        case invalidConfig = 1, invalidArgument = 2, numeric = 3, internalError = 4, unavailable = 5
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }

    static func config(_ message: String) -> PolicyError { PolicyError(.invalidConfig, message) }
}
