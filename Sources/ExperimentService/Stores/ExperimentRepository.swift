/// Where experiments are defined.
public protocol ExperimentRepository: Sendable {
    /// Stores a new experiment; throws ``ServiceError/experimentExists`` for a taken key.
    func create(_ experiment: Experiment) async throws
    /// The experiment with this key, or `nil`.
    func find(key: String) async throws -> Experiment?
    /// Every experiment, ordered by key.
    func all() async throws -> [Experiment]
    /// Moves an experiment to `status` if its current status is one of `from`; returns the
    /// status it has afterwards, or nil if there is no such experiment.
    /// Stores `next`, a change of `current` (``ExperimentChange``), and records its phase with
    /// `change` (what changed); throws ``ServiceError/concurrentChange(key:)`` if the
    /// experiment is no longer at `current.phase`.
    func change(from current: Experiment, to next: Experiment, change: String) async throws
    /// The experiment's phases, first to last (empty for an unknown key).
    func phases(key: String) async throws -> [ExperimentPhase]
    func transition(key: String, from: Set<Experiment.Status>, to status: Experiment.Status) async throws -> Experiment.Status?
}
