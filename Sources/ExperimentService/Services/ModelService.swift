import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PluginHost
import PluginSupport
import ServiceLifecycle

/// The models every replica routes to: registered through any replica, recorded
/// in PostgreSQL, loaded by the others on first use, and re-checked every
/// ``refreshInterval`` so a deregistration reaches every replica within a second.
public final class ModelService: Sendable {
    public let registry: ModelRegistry
    let repository: any ModelRepository
    let quarantine: any PluginQuarantine
    let threadPool: NIOThreadPool
    /// Libraries (SHA-256 → why) switched off after a crash, read at start.
    private let quarantined = NIOLockedValueBox<[String: String]>([:])
    let logger: Logger
    private let checkedAt = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])

    /// How stale this replica's view of a registration may be.
    public static let refreshInterval: Duration = .milliseconds(500)

    public init(registry: ModelRegistry, repository: any ModelRepository, quarantine: any PluginQuarantine,
                threadPool: NIOThreadPool, logger: Logger) {
        self.registry = registry
        self.repository = repository
        self.quarantine = quarantine
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Checks the library with the model in a child process, loads them here (on a blocking
    /// thread), then records the registration; `changed` is false when the same registration
    /// was already active (registering it again still switches a crashed library back on).
    public func register(_ registration: ModelRegistration) async throws -> (endpoint: ModelEndpoint, changed: Bool) {
        let checked: ModelRegistration
        do { checked = try await registry.checked(registration) } catch { throw ServiceError.backendRefused(error.message) }
        let endpoint = try await load(checked)
        let changed = try await repository.record(endpoint.registration, sha256: endpoint.sha256, backend: endpoint.plugin.id)
        // Registering a library again is how an admin switches it back on after a crash.
        try await quarantine.remove(sha256: endpoint.sha256)
        _ = quarantined.withLockedValue { $0.removeValue(forKey: endpoint.sha256) }
        checkedAt.withLockedValue { $0[registration.name] = .now }
        return (endpoint, changed)
    }

    /// Stops routing to `name` on every replica.
    public func remove(_ name: String) async throws {
        let found = try await repository.deactivate(name)
        registry.remove(name)
        guard found else { throw ServiceError.unknownBackend(name: name) }
    }

    /// The endpoint registered as `name`, loading it if another replica registered it.
    public func endpoint(_ name: String) async throws -> ModelEndpoint {
        let cached = registry.endpoint(name)
        let fresh = checkedAt.withLockedValue { $0[name].map { ContinuousClock.now - $0 < Self.refreshInterval } ?? false }
        if let cached, fresh { return cached }
        let readAt = ContinuousClock.now  // when the read began: a slow read must not look newer than it is
        guard let recorded = try await repository.find(name) else {
            registry.remove(name)
            throw ServiceError.unknownBackend(name: name)
        }
        if let sha = recorded.sha256, let reason = quarantined.withLockedValue({ $0[sha] }) {
            throw ServiceError.pluginQuarantined(plugin: "model backend '\(name)'", reason: reason)
        }
        let endpoint: ModelEndpoint
        if let cached, cached.registration.loadsSame(as: recorded) {
            endpoint = cached
        } else {
            endpoint = try await load(recorded)
        }
        checkedAt.withLockedValue { $0[name] = readAt }
        return endpoint
    }

    /// Every registration this replica has loaded.
    public var endpoints: [ModelEndpoint] { registry.endpoints }

    /// Loads every recorded registration (at start); a failure is logged and skipped, and
    /// so is a library switched off after a crash (its experiments answer 503).
    public func loadRecorded() async throws {
        let switchedOff = try await quarantine.all()
        quarantined.withLockedValue { $0 = switchedOff }
        for registration in try await repository.all() {
            if let sha = registration.sha256, let reason = switchedOff[sha] {
                logger.error("a model backend is switched off after a crash; not loaded", metadata: ["name": "\(registration.name)", "reason": "\(reason)"])
                continue
            }
            do { _ = try await load(registration) } catch {
                logger.error("a recorded model backend could not be loaded", metadata: ["name": "\(registration.name)", "error": "\(error)"])
            }
        }
    }

    private func load(_ registration: ModelRegistration) async throws -> ModelEndpoint {
        let registry = self.registry
        do {
            return try await threadPool.runIfActive { try registry.register(registration) }
        } catch let error as ModelRegistrationError {
            throw ServiceError.backendRefused(error.message)
        }
    }
}

/// Loads the recorded models when the service starts (a restarted replica serves
/// them at once), then waits for shutdown.
struct ModelBootstrap: Service {
    let models: ModelService

    func run() async throws {
        do { try await models.loadRecorded() } catch {
            models.logger.warning("recorded models could not be read; they load on first use", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}
