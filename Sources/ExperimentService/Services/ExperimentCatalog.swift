import NIOConcurrencyHelpers
import Policies

/// The experiments this replica knows, cached in memory with their hash splits.
///
/// A key missing from the cache is looked up in the repository, so an experiment created
/// on another replica is found on first use. Assignment needs no database read once an
/// experiment is cached.
public final class ExperimentCatalog: Sendable {
    /// A cached experiment with its prepared split.
    public struct Entry: Sendable {
        public let experiment: Experiment
        public let split: WeightedHashSplit
    }

    private let repository: any ExperimentRepository
    private let cache = NIOLockedValueBox<[String: Entry]>([:])

    public init(repository: any ExperimentRepository) {
        self.repository = repository
    }

    /// Validates and stores a new experiment, then caches it.
    public func create(_ spec: ExperimentSpec) async throws -> Experiment {
        let experiment = try spec.validated(defaultSalt: Self.randomSalt())
        let entry = try Self.entry(experiment)
        try await repository.create(experiment)
        cache.withLockedValue { $0[experiment.key] = entry }
        return experiment
    }

    /// The experiment with `key`; throws ``ServiceError/unknownExperiment(key:)``.
    public func entry(_ key: String) async throws -> Entry {
        if let entry = cache.withLockedValue({ $0[key] }) { return entry }
        guard ExperimentSpec.isValidKey(key), let experiment = try await repository.find(key: key) else {
            throw ServiceError.unknownExperiment(key: key)
        }
        let entry = try Self.entry(experiment)
        cache.withLockedValue { $0[key] = entry }
        return entry
    }

    /// Every experiment, from the repository (refreshing the cache).
    public func all() async throws -> [Experiment] {
        let experiments = try await repository.all()
        let entries = try experiments.map(Self.entry)
        cache.withLockedValue { cache in
            for entry in entries { cache[entry.experiment.key] = entry }
        }
        return experiments
    }

    private static func entry(_ experiment: Experiment) throws -> Entry {
        do {
            return Entry(experiment: experiment, split: try experiment.makeSplit())
        } catch let error as WeightedHashSplit.ConfigurationError {
            throw ServiceError.invalidField(path: "arms", reason: error.description)
        }
    }

    private static func randomSalt() -> String {
        var rng = SystemRandomNumberGenerator()
        let value: UInt64 = rng.next()
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
