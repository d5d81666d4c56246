import SwitchboardABI
#if canImport(Glibc)
import Glibc
#endif

/// Capability flags a policy declares (`SB_POLICY_CAP_*`).
public struct PolicyPluginCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let contextual = Self(rawValue: UInt64(SB_POLICY_CAP_CONTEXTUAL))
    public static let ensemble = Self(rawValue: UInt64(SB_POLICY_CAP_ENSEMBLE))
    public static let threadSafe = Self(rawValue: UInt64(SB_POLICY_CAP_THREAD_SAFE))
    public static let costlyProbabilities = Self(rawValue: UInt64(SB_POLICY_CAP_COSTLY_PROBABILITIES))
    /// The choice depends on the unit alone: a unit always gets the same arm without a claim.
    public static let unitDeterministic = Self(rawValue: UInt64(SB_POLICY_CAP_UNIT_DETERMINISTIC))
    /// Every flag policy ABI 2.0 defines.
    public static let known: Self = [.contextual, .ensemble, .threadSafe, .costlyProbabilities, .unitDeterministic]

    /// The flags' names, for listings.
    public var names: [String] {
        [(Self.contextual, "contextual"), (.ensemble, "ensemble"), (.threadSafe, "thread_safe"),
         (.costlyProbabilities, "costly_probabilities"), (.unitDeterministic, "unit_deterministic")].filter { contains($0.0) }.map(\.1)
    }
}

/// What an experiment configures a policy with.
public struct PolicyConfiguration: Sendable {
    public var armNames: [String]
    public var armWeights: [Double]
    public var contextDimension: Int
    /// The policy's config as JSON text (`{}` when none).
    public var configJSON: String

    public init(armNames: [String], armWeights: [Double], contextDimension: Int = 0, configJSON: String = "{}") {
        self.armNames = armNames
        self.armWeights = armWeights
        self.contextDimension = contextDimension
        self.configJSON = configJSON
    }
}

/// One policy of a loaded plugin library: its declared identity and a handle on its
/// constant function table. Cheap to copy; the library is never unloaded.
public struct PolicyPlugin: @unchecked Sendable {
    public let name: String
    public let version: String
    public let capabilities: PolicyPluginCapabilities
    /// The file the library was registered from.
    public let libraryPath: String
    /// SHA-256 of the library file, lowercase hex.
    public let sha256: String
    let table: UnsafePointer<sb_policy>
    let services: PluginHostServices

    /// `name@version`.
    public var id: String { "\(name)@\(version)" }

    /// Validates `configuration` through the plugin and returns the configured policy;
    /// the error is the plugin's own message (say, what is wrong with the JSON).
    public func configure(_ configuration: PolicyConfiguration) throws(PluginReportedError) -> ConfiguredPolicy {
        guard !configuration.armNames.isEmpty, configuration.armNames.count == configuration.armWeights.count else {
            throw PluginReportedError(code: PluginReportedError.invalidArgument, message: "a policy needs at least one arm, with one weight per arm")
        }
        if capabilities.contains(.contextual) && configuration.contextDimension == 0 {
            throw PluginReportedError(code: PluginReportedError.invalidConfig,
                                      message: "policy \(id) is contextual: the experiment must declare context_features")
        }
        var config: OpaquePointer?
        let names = configuration.armNames.map { strdup($0) }
        defer { names.forEach { free($0) } }
        let error: OpaquePointer? = names.map { UnsafePointer<CChar>($0) }.withUnsafeBufferPointer { namePointers in
            configuration.armWeights.withUnsafeBufferPointer { weights in
                configuration.configJSON.withCString { json in
                    var setup = sb_policy_setup(
                        struct_size: UInt32(MemoryLayout<sb_policy_setup>.size),
                        arm_count: UInt32(configuration.armNames.count),
                        context_dim: UInt32(configuration.contextDimension),
                        reserved: 0,
                        arm_names: namePointers.baseAddress,
                        arm_weights: weights.baseAddress,
                        config_json: json
                    )
                    return table.pointee.config_create(services.api, &setup, &config)
                }
            }
        }
        if let reported = PluginHostServices.take(error) { throw reported }
        guard let config else {
            throw PluginReportedError(code: 4, message: "policy \(id) returned no config and no error")
        }
        return try ConfiguredPolicy(plugin: self, config: config, configuration: configuration)
    }
}
