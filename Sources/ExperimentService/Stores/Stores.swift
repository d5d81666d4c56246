import Foundation

/// Where experiments are defined (PostgreSQL in production).
public protocol ExperimentRepository: Sendable {
    /// Stores a new experiment; throws ``ServiceError/experimentExists`` for a taken key.
    func create(_ experiment: Experiment) async throws
    /// The experiment with this key, or `nil`.
    func find(key: String) async throws -> Experiment?
    /// Every experiment, ordered by key.
    func all() async throws -> [Experiment]
}

/// The durable record of decisions and rewards (PostgreSQL in production).
public protocol RewardLog: Sendable {
    /// Stores a decision; returns once it is committed.
    func record(_ decision: Decision) async throws
    /// Stores a reward idempotently; returns once it is committed.
    func record(_ reward: Reward) async throws -> RewardOutcome
    /// Throws if the database cannot be reached.
    func ping() async throws
}

/// Hot shared state (Redis in production): live per-arm counters.
public protocol StateStore: Sendable {
    /// Counts one assignment of `armIndex`.
    func recordAssignment(experiment: String, armIndex: Int) async throws
    /// Counts one reward of `value` for `armIndex`.
    func recordReward(experiment: String, armIndex: Int, value: Double) async throws
    /// The counters of arms `0..<armCount`.
    func counters(experiment: String, armCount: Int) async throws -> [ArmCounters]
    /// Throws if Redis cannot be reached.
    func ping() async throws
}
