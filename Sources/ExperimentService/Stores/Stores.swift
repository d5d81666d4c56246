import Foundation

/// Where experiments are defined (PostgreSQL in production).
public protocol ExperimentRepository: Sendable {
    /// Stores a new experiment; throws ``ServiceError/experimentExists`` for a taken key.
    func create(_ experiment: Experiment) async throws
    /// The experiment with this key, or `nil`.
    func find(key: String) async throws -> Experiment?
    /// Every experiment, ordered by key.
    func all() async throws -> [Experiment]
    /// Moves an experiment to `status` if its current status is one of `from`; returns the
    /// status it has afterwards, or nil if there is no such experiment.
    func transition(key: String, from: Set<Experiment.Status>, to status: Experiment.Status) async throws -> Experiment.Status?
}

/// The durable record of decisions and rewards (PostgreSQL in production).
public protocol DecisionLog: Sendable {
    /// Stores a decision; returns the id of its transaction once it is committed.
    @discardableResult
    func record(_ decision: Decision) async throws -> CommitID
    /// Stores a decision of an adaptive experiment, claiming its unit as it does (see
    /// ``StickyClaim``); returns the decision as stored (a returning unit's with the arm it
    /// holds) once it is committed.
    func record(_ decision: Decision, sticky: StickyClaim) async throws -> (decision: Decision, commit: CommitID)
    /// The decision with this id, or nil.
    func decision(id: UUID) async throws -> Decision?
    /// The decisions with these ids (missing ones are absent), in one query.
    func decisions(ids: [UUID]) async throws -> [UUID: Decision]
    /// Stores a reward idempotently; returns once it is committed, with the id of the
    /// transaction (meaningful when the outcome is `recorded`).
    func record(_ reward: Reward) async throws -> (outcome: RewardOutcome, commit: CommitID)
    /// Throws if the database cannot be reached.
    func ping() async throws
}

/// Hot shared state (Redis in production): live per-arm counters and each experiment's
/// policy statistics. Writes go through ``StatisticsCache``, which batches them.
public protocol StatisticsStore: Sendable {
    /// The counters of arms `0..<armCount`.
    func counters(experiment: String, armCount: Int) async throws -> [ArmCounters]
    /// Throws if Redis cannot be reached.
    func ping() async throws

    /// An experiment's policy statistics (`length` values) and the rebuild they belong to.
    func storedStatistics(experiment: String, length: Int) async throws -> StoredStatistics
}

/// The plugin libraries registered at run time, so every replica loads them too.
public protocol PolicyLibraryRepository: Sendable {
    /// Remembers a registered library (by SHA-256; the latest path wins).
    func record(sha256: String, path: String, policies: [String]) async throws
    /// Every registered library, oldest first, with the policies (`name@version`) it provides.
    func all() async throws -> [(sha256: String, path: String, policies: [String])]
}
