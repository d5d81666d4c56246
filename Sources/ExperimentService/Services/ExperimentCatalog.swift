import PluginSupport
import Foundation
import NIOConcurrencyHelpers
import Metrics
import PluginHost

/// The experiments this replica knows, cached in memory with their configured policies.
///
/// A key missing from the cache is looked up in the repository, so an experiment created
/// on another replica is found on first use. Assignment needs no database read once an
/// experiment is cached.
public final class ExperimentCatalog: Sendable {
    /// A cached experiment with its policy, configured through the plugin ABI.
    /// An experiment with its configured policy, shared by reference (the hot path passes
    /// it around once per request).
    public final class Entry: Sendable {
        public let experiment: Experiment
        public let policy: ConfiguredPolicy
        /// Arm probabilities of the last state seen, for policies whose probabilities are costly.
        let probabilities: ProbabilityCache
        /// The assignment counter of each arm (made once, not per request).
        let assignmentCounters: [Counter]
        /// For a fixed split whose weights changed, how units follow the changes.
        let splitHistory: SplitHistory?

        init(experiment: Experiment, policy: ConfiguredPolicy, probabilities: ProbabilityCache, assignmentCounters: [Counter]) {
            self.experiment = experiment
            self.policy = policy
            self.probabilities = probabilities
            self.assignmentCounters = assignmentCounters
            let history = experiment.splitHistory
            self.splitHistory = history.changed ? history : nil
        }

        /// The same configured policy with a newer row of the experiment (only its
        /// lifecycle fields changed).
        func with(_ experiment: Experiment) -> Entry {
            Entry(experiment: experiment, policy: policy, probabilities: probabilities, assignmentCounters: assignmentCounters)
        }
    }

    /// A cached entry and when the read of the experiment's row began (not ended: a read
    /// slowed down by load must not make what it returns look newer than it is), to pick
    /// up changes of other replicas.
    private struct Cached {
        var entry: Entry
        var loadedAt = ContinuousClock.now
    }

    /// How stale a cached experiment may be before it is read again (lifecycle changes made
    /// on another replica arrive within this interval).
    public static let refreshInterval: Duration = .milliseconds(500)

    /// What a lifecycle route does.
    public enum LifecycleAction: String, Sendable {
        case start, pause, stop, archive, delete

        var allowedFrom: Set<Experiment.Status> {
            switch self {
            case .start: [.draft, .paused, .running]
            case .pause: [.running, .paused]
            case .stop: [.draft, .running, .paused, .stopped]
            case .archive: [.draft, .running, .paused, .stopped, .archived]
            case .delete: [.draft, .running, .paused, .stopped, .archived, .deleted]
            }
        }

        var target: Experiment.Status {
            switch self {
            case .start: .running
            case .pause: .paused
            case .stop: .stopped
            case .archive: .archived
            case .delete: .deleted
            }
        }
    }

    /// The policy an experiment gets when its definition names none.
    public static let defaultPolicy = "weighted-split"

    private let repository: any ExperimentRepository
    private let registry: PolicyRegistry
    private let cache = NIOLockedValueBox<[String: Cached]>([:])

    public init(repository: any ExperimentRepository, registry: PolicyRegistry) {
        self.repository = repository
        self.registry = registry
    }

    /// Validates a new experiment (its policy config through the plugin), stores it, and
    /// checks that its policy gives a prior. The statistics in Redis are built from
    /// PostgreSQL on first use (see ``StatisticsRebuilder``).
    public func create(_ spec: ExperimentSpec) async throws -> Experiment {
        var experiment = try spec.validated(defaultSalt: Self.randomSalt())
        let requested = experiment.policy
        let name = requested?.name ?? Self.defaultPolicy
        guard let plugin = registry.policy(name: name, version: requested?.version) else {
            throw ServiceError.unknownPolicy(name: name, version: requested?.version, registered: registry.policies.map(\.id))
        }
        experiment.policy = Experiment.PolicyReference(name: plugin.name, version: plugin.version, config: requested?.config ?? .object([:]))
        let entry = try Self.entry(experiment, plugin: plugin)
        do { _ = try entry.policy.initialState() } catch {
            throw ServiceError.policyFailed(policy: plugin.id, message: error.message)
        }
        do {
            try await repository.create(experiment)
        } catch ServiceError.experimentExists(let key) {
            if try await repository.find(key: key)?.status == .deleted {
                throw ServiceError.invalidField(path: "key", reason: "'\(key)' belonged to a deleted experiment and cannot be used again (its decisions are kept under it)")
            }
            throw ServiceError.experimentExists(key: key)
        }
        cache.withLockedValue { $0[experiment.key] = Cached(entry: entry) }
        return experiment
    }

    /// Applies a change to an experiment (``ExperimentChange``): checks it, configures the
    /// policy with the new definition (its plugin checks the config), stores it as a new
    /// phase, and returns the experiment with what changed (nothing: no new phase). Other
    /// replicas read it within ``refreshInterval``.
    public func change(_ key: String, _ change: ExperimentChange) async throws -> (Experiment, [ExperimentChange.Kind]) {
        guard ExperimentSpec.isValidKey(key), let current = try await repository.find(key: key) else {
            throw ServiceError.unknownExperiment(key: key)
        }
        guard current.status != .deleted else { throw ServiceError.experimentDeleted(key: key) }
        let (next, kinds) = try change.applied(to: current)
        guard !kinds.isEmpty else { return (current, []) }
        let entry = try resolve(next)
        do { _ = try entry.policy.initialState() } catch {
            throw ServiceError.policyFailed(policy: entry.policy.plugin.id, message: error.message)
        }
        try await repository.change(from: current, to: next, change: kinds.map(\.rawValue).joined(separator: ","))
        cache.withLockedValue { $0[key] = Cached(entry: entry) }
        return (next, kinds)
    }

    /// The experiment with `key`; throws ``ServiceError/unknownExperiment(key:)``. A cached
    /// entry older than ``refreshInterval`` is read again (keeping its configured policy),
    /// so a request that arrives ``refreshInterval`` after a change committed sees it.
    public func entry(_ key: String) async throws -> Entry {
        if let fresh = freshEntry(key) { return fresh }
        let readAt = ContinuousClock.now
        let cached = cache.withLockedValue { $0[key]?.entry }
        guard ExperimentSpec.isValidKey(key), let experiment = try await repository.find(key: key) else {
            throw ServiceError.unknownExperiment(key: key)
        }
        let entry: Entry
        if let cached, Self.sameDefinition(cached.experiment, experiment) {
            entry = cached.with(experiment)
        } else {
            entry = try resolve(experiment)
        }
        cache.withLockedValue { $0[key] = Cached(entry: entry, loadedAt: readAt) }
        return entry
    }

    /// An experiment whose figures may be read: 404 for an unknown key, 410 for a deleted one.
    public func readable(_ key: String) async throws -> Entry {
        let entry = try await entry(key)
        guard entry.experiment.status != .deleted else { throw ServiceError.experimentDeleted(key: key) }
        return entry
    }

    /// The cached entry for `key` if it was read within ``refreshInterval``.
    private func freshEntry(_ key: String) -> Entry? {
        cache.withLockedValue { cache in
            guard let cached = cache[key], ContinuousClock.now - cached.loadedAt < Self.refreshInterval else { return nil }
            return cached.entry
        }
    }

    /// Starts, pauses or stops an experiment; refuses transitions that make no sense
    /// (a stopped experiment cannot start again).
    public func transition(_ key: String, _ action: LifecycleAction) async throws -> Experiment {
        guard ExperimentSpec.isValidKey(key) else { throw ServiceError.unknownExperiment(key: key) }
        guard let status = try await repository.transition(key: key, from: action.allowedFrom, to: action.target) else {
            throw ServiceError.unknownExperiment(key: key)
        }
        guard status == action.target else {
            throw ServiceError.invalidTransition(key: key, action: action.rawValue, status: status.rawValue)
        }
        cache.withLockedValue { $0[key]?.loadedAt = .now - Self.refreshInterval }  // re-read on next use
        return try await entry(key).experiment
    }

    /// True when only the lifecycle fields differ (the configured policy can be kept).
    static func sameDefinition(_ a: Experiment, _ b: Experiment) -> Bool {
        var a = a, b = b
        a.status = .running
        b.status = .running
        return a == b
    }

    /// Every experiment, from the repository (refreshing the cache).
    public func all() async throws -> [Experiment] {
        try await repository.all()
    }

    private func resolve(_ experiment: Experiment) throws -> Entry {
        let reference = experiment.policy ?? .init(name: Self.defaultPolicy, version: "1", config: nil)
        guard let plugin = registry.policy(name: reference.name, version: reference.version) else {
            if let (policy, reason) = registry.quarantineReason(name: reference.name, version: reference.version) {
                throw ServiceError.pluginQuarantined(plugin: "policy \(policy)", reason: reason)
            }
            throw ServiceError.policyUnavailable(policy: "\(reference.name)@\(reference.version ?? "?")")
        }
        return try Self.entry(experiment, plugin: plugin)
    }

    /// Configures the experiment's policy. A fixed split gets its first weights: the
    /// assignment carries each unit through the later changes (``SplitHistory``).
    private static func entry(_ experiment: Experiment, plugin: PolicyPlugin) throws -> Entry {
        let config = try String(decoding: JSONEncoder().encode(experiment.policy?.config ?? .object([:])), as: UTF8.self)
        let deterministic = plugin.capabilities.contains(.unitDeterministic)
        let configuration = PolicyConfiguration(
            armNames: experiment.arms.map(\.name), armWeights: deterministic ? experiment.initialWeights : experiment.effectiveWeights,
            contextDimension: experiment.contextFeatures.count, configJSON: config)
        do {
            let counters = experiment.arms.map {
                Counter(label: MetricNames.assignments, dimensions: [("experiment", experiment.key), ("arm", $0.name)])
            }
            return Entry(experiment: experiment, policy: try plugin.configure(configuration), probabilities: ProbabilityCache(),
                         assignmentCounters: counters)
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
