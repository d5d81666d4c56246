import ExperimentService
import Foundation
import PluginHost

/// Experiments in memory, the twin of `PostgresExperimentRepository`.
public final class InMemoryExperimentRepository: ExperimentRepository, @unchecked Sendable {
    private let lock = NSLock()
    private var experiments: [String: Experiment] = [:]
    private var phases: [String: [ExperimentPhase]] = [:]

    public init() {}

    public func create(_ experiment: Experiment) async throws {
        try lock.withLock {
            guard experiments[experiment.key] == nil else { throw ServiceError.experimentExists(key: experiment.key) }
            experiments[experiment.key] = experiment
            phases[experiment.key] = [ExperimentPhase(phase: 1, startedAt: Self.timestamp(experiment.createdAt), change: "created")]
        }
    }

    public func change(from current: Experiment, to next: Experiment, change: String) async throws {
        try lock.withLock {
            guard experiments[next.key]?.phase == current.phase else { throw ServiceError.concurrentChange(key: next.key) }
            experiments[next.key] = next
            phases[next.key, default: []].append(ExperimentPhase(phase: next.phase, startedAt: Self.timestamp(Date()), change: change))
        }
    }

    public func phases(key: String) async throws -> [ExperimentPhase] { lock.withLock { phases[key] ?? [] } }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    public func find(key: String) async throws -> Experiment? { lock.withLock { experiments[key] } }

    public func all() async throws -> [Experiment] { lock.withLock { experiments.values.sorted { $0.key < $1.key } } }

    public func transition(key: String, from: Set<Experiment.Status>, to status: Experiment.Status) async throws -> Experiment.Status? {
        lock.withLock {
            guard let current = experiments[key]?.status else { return nil }
            guard from.contains(current) else { return current }
            experiments[key]?.status = status
            return status
        }
    }
}

/// Registered policy libraries in memory, the twin of `PostgresPolicyLibraryRepository`.
public final class InMemoryPolicyLibraryRepository: PolicyLibraryRepository, @unchecked Sendable {
    private let lock = NSLock()
    private var libraries: [(sha256: String, path: String, policies: [String])] = []

    public init() {}

    public func record(sha256: String, path: String, policies: [String]) async throws {
        lock.withLock {
            libraries.removeAll { $0.sha256 == sha256 }
            libraries.append((sha256, path, policies))
        }
    }

    public func all() async throws -> [(sha256: String, path: String, policies: [String])] { lock.withLock { libraries } }
}

/// Registered models in memory, the twin of `PostgresModelRepository`.
public final class InMemoryModelRepository: ModelRepository, @unchecked Sendable {
    private let lock = NSLock()
    private var active: [ModelRegistration] = []

    public init() {}

    public func record(_ registration: ModelRegistration, sha256: String, backend: String) async throws -> Bool {
        var pinned = registration
        pinned.sha256 = sha256
        pinned.backend = backend
        return lock.withLock {
            if let existing = active.first(where: { $0.name == registration.name }), existing.loadsSame(as: pinned) { return false }
            active.removeAll { $0.name == registration.name }
            active.append(pinned)
            return true
        }
    }

    public func deactivate(_ name: String) async throws -> Bool {
        lock.withLock {
            let before = active.count
            active.removeAll { $0.name == name }
            return active.count < before
        }
    }

    public func find(_ name: String) async throws -> ModelRegistration? { lock.withLock { active.first { $0.name == name } } }

    public func all() async throws -> [ModelRegistration] { lock.withLock { active } }
}

/// Switched-off plugin libraries in memory, the twin of `PostgresPluginQuarantine`.
public final class InMemoryPluginQuarantine: PluginQuarantine, @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String: String] = [:]

    public init() {}

    public func add(sha256: String, path: String, reason: String) async throws { lock.withLock { reasons[sha256] = reason } }
    public func remove(sha256: String) async throws { _ = lock.withLock { reasons.removeValue(forKey: sha256) } }
    public func all() async throws -> [String: String] { lock.withLock { reasons } }
}
