import Foundation
import NIOConcurrencyHelpers
import PluginHost

/// The experiments this replica knows, cached in memory with their configured policies.
///
/// A key missing from the cache is looked up in the repository, so an experiment created
/// on another replica is found on first use. Assignment needs no database read once an
/// experiment is cached.
public final class ExperimentCatalog: Sendable {
    /// A cached experiment with its policy, configured through the plugin ABI.
    public struct Entry: Sendable {
        public let experiment: Experiment
        public let policy: ConfiguredPolicy
        /// Arm probabilities of the last state seen, for policies whose probabilities are costly.
        let probabilities: ProbabilityCache
    }

    /// The policy an experiment gets when its definition names none.
    public static let defaultPolicy = "weighted-split"

    private let repository: any ExperimentRepository
    private let registry: PolicyRegistry
    private let state: any StateStore
    private let cache = NIOLockedValueBox<[String: Entry]>([:])

    public init(repository: any ExperimentRepository, registry: PolicyRegistry, state: any StateStore) {
        self.repository = repository
        self.registry = registry
        self.state = state
    }

    /// Validates a new experiment (its policy config through the plugin), stores it, and
    /// writes its policy's prior statistics.
    public func create(_ spec: ExperimentSpec) async throws -> Experiment {
        var experiment = try spec.validated(defaultSalt: Self.randomSalt())
        let requested = experiment.policy
        let name = requested?.name ?? Self.defaultPolicy
        guard let plugin = registry.policy(name: name, version: requested?.version) else {
            throw ServiceError.unknownPolicy(name: name, version: requested?.version, registered: registry.policies.map(\.id))
        }
        experiment.policy = Experiment.PolicyReference(name: plugin.name, version: plugin.version, config: requested?.config ?? .object([:]))
        let entry = try Self.entry(experiment, plugin: plugin)
        let prior: [Double]
        do { prior = try entry.policy.initialState() } catch {
            throw ServiceError.policyFailed(policy: plugin.id, message: error.message)
        }
        try await repository.create(experiment)
        if !prior.isEmpty { try await state.initializePolicyState(experiment: experiment.key, prior: prior) }
        cache.withLockedValue { $0[experiment.key] = entry }
        return experiment
    }

    /// The experiment with `key`; throws ``ServiceError/unknownExperiment(key:)``.
    public func entry(_ key: String) async throws -> Entry {
        if let entry = cache.withLockedValue({ $0[key] }) { return entry }
        guard ExperimentSpec.isValidKey(key), let experiment = try await repository.find(key: key) else {
            throw ServiceError.unknownExperiment(key: key)
        }
        let entry = try resolve(experiment)
        cache.withLockedValue { $0[key] = entry }
        return entry
    }

    /// Every experiment, from the repository (refreshing the cache).
    public func all() async throws -> [Experiment] {
        try await repository.all()
    }

    private func resolve(_ experiment: Experiment) throws -> Entry {
        let reference = experiment.policy ?? .init(name: Self.defaultPolicy, version: "1", config: nil)
        guard let plugin = registry.policy(name: reference.name, version: reference.version) else {
            throw ServiceError.policyUnavailable(policy: "\(reference.name)@\(reference.version ?? "?")")
        }
        return try Self.entry(experiment, plugin: plugin)
    }

    private static func entry(_ experiment: Experiment, plugin: PolicyPlugin) throws -> Entry {
        let config = try String(decoding: JSONEncoder().encode(experiment.policy?.config ?? .object([:])), as: UTF8.self)
        let configuration = PolicyConfiguration(
            armNames: experiment.arms.map(\.name), armWeights: experiment.arms.map(\.weight),
            contextDimension: experiment.contextFeatures.count, configJSON: config)
        do {
            return Entry(experiment: experiment, policy: try plugin.configure(configuration), probabilities: ProbabilityCache())
        } catch {
            throw ServiceError.invalidPolicyConfig(policy: plugin.id, message: error.message)
        }
    }

    private static func randomSalt() -> String {
        var rng = SystemRandomNumberGenerator()
        let value: UInt64 = rng.next()
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The arm probabilities for the last statistics seen, keyed by a fingerprint of the
/// state. Used for policies that declare costly probabilities (Monte Carlo estimates),
/// so they are computed once per state change instead of once per decision.
final class ProbabilityCache: Sendable {
    private let last = NIOLockedValueBox<(fingerprint: Int, probabilities: [Double])?>(nil)

    func probabilities(for fingerprint: Int) -> [Double]? {
        last.withLockedValue { $0?.fingerprint == fingerprint ? $0?.probabilities : nil }
    }

    func store(_ probabilities: [Double], for fingerprint: Int) {
        last.withLockedValue { $0 = (fingerprint, probabilities) }
    }
}
