import PluginHost

/// The plugin libraries registered at run time, so every replica loads them too.
public protocol PolicyLibraryRepository: Sendable {
    /// Remembers a registered library (by SHA-256; the latest path wins).
    func record(sha256: String, path: String, policies: [String]) async throws
    /// Every registered library, oldest first, with the policies (`name@version`) it provides.
    func all() async throws -> [(sha256: String, path: String, policies: [String])]
}

/// Registered models (a backend library, the backend in it, the model and its config), so
/// every replica serves them too.
public protocol ModelRepository: Sendable {
    /// Records (or replaces) an active registration, pinned to the library's SHA-256 and
    /// the backend it named; returns whether it was new or differed from the active one
    /// (``ModelRegistration/loadsSame(as:)``).
    func record(_ registration: ModelRegistration, sha256: String, backend: String) async throws -> Bool
    /// Stops routing to `name`; returns whether an active registration had that name.
    func deactivate(_ name: String) async throws -> Bool
    /// The active registration named `name`, if any.
    func find(_ name: String) async throws -> ModelRegistration?
    /// Every active registration, oldest first.
    func all() async throws -> [ModelRegistration]
}

/// Plugin libraries that crashed a server, by SHA-256: switched off until registered again.
public protocol PluginQuarantine: Sendable {
    /// Records that the library with `sha256` (at `path`) is switched off, and why.
    func add(sha256: String, path: String, reason: String) async throws
    /// Switches the library back on (an admin registered it again).
    func remove(sha256: String) async throws
    /// Every switched-off library: SHA-256 → why.
    func all() async throws -> [String: String]
}

extension ResultsStore {
    /// Each experiment's summary from its full results: right for any store, one
    /// experiment at a time (PostgreSQL answers the list in two queries instead).
    public func summaries(of experiments: [Experiment]) async throws -> [String: ExperimentSummary] {
        var summaries: [String: ExperimentSummary] = [:]
        for experiment in experiments { summaries[experiment.key] = ExperimentSummary(try await results(for: experiment, phase: nil)) }
        return summaries
    }
}

/// An experiment's results (the statistics views in PostgreSQL).
public protocol ResultsStore: Sendable {
    /// The figures of `experiment` for one phase, or for every phase together (`nil`).
    func results(for experiment: Experiment, phase: Int?) async throws -> ExperimentResults
    /// The summaries of `experiments` for the list of experiments, by key (every phase together).
    func summaries(of experiments: [Experiment]) async throws -> [String: ExperimentSummary]
    /// Merges the rollup rows of each key into one; returns how many rows fewer there are.
    func compactRollups() async throws -> Int
}
