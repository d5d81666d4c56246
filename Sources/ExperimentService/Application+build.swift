import Prometheus
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PluginHost
import ServiceLifecycle

/// The stores a service instance works with.
public struct Stores: Sendable {
    public var repository: any ExperimentRepository
    public var decisionLog: any DecisionLog
    public var statistics: RedisStatisticsStore
    public var libraries: any PolicyLibraryRepository
    /// Registered model backends.
    public var backends: PostgresBackendRepository
    /// This replica's batched view of the statistics in Redis.
    public var cache: StatisticsCache
    /// The statistics views (results route).
    public var results: PostgresResults
    /// Plugin libraries switched off after they crashed a server.
    public var quarantine: PostgresPluginQuarantine?
    /// The long-running parts of the stores (the group-commit writer, the Redis flusher), run by the application.
    public var services: [any Service] {
        [decisionLog as? any Service, cache].compactMap { $0 }
    }

    public init(repository: any ExperimentRepository, decisionLog: any DecisionLog, statistics: RedisStatisticsStore,
                libraries: any PolicyLibraryRepository, backends: PostgresBackendRepository, results: PostgresResults,
                quarantine: PostgresPluginQuarantine? = nil, flushInterval: Duration = .milliseconds(20),
                logger: Logger = Logger(label: "switchboard")) {
        self.backends = backends
        self.quarantine = quarantine
        self.results = results
        self.repository = repository
        self.decisionLog = decisionLog
        self.statistics = statistics
        self.libraries = libraries
        self.cache = StatisticsCache(store: statistics, flushInterval: flushInterval, logger: logger)
    }

    /// The real stores: PostgreSQL through libpq (`database`'s pool, and the group-commit
    /// writer's own connection) and Redis through hiredis (one pipelining thread).
    /// `flushInterval`: how often this replica sends its deltas and counts to Redis.
    public static func connect(database: PostgresDatabase, redisURL: String, flushInterval: Duration = .milliseconds(20),
                               logger: Logger = Logger(label: "switchboard")) throws -> Stores {
        Stores(
            repository: PostgresExperimentRepository(database: database),
            decisionLog: PostgresDecisionLog(database: database, logger: logger),
            statistics: try RedisStatisticsStore(url: redisURL),
            libraries: PostgresPolicyLibraryRepository(database: database),
            backends: PostgresBackendRepository(database: database),
            results: PostgresResults(database: database),
            quarantine: PostgresPluginQuarantine(database: database),
            flushInterval: flushInterval,
            logger: logger
        )
    }
}

/// The parts of one service instance, wired once: the catalog and the services the
/// routes and background jobs share.
public struct ServiceComponents: Sendable {
    public let stores: Stores
    public let policies: PolicyRegistry
    public let catalog: ExperimentCatalog
    public let assignments: AssignmentService
    public let rewards: RewardService
    public let backends: BackendService
    public let predictions: PredictionService

    /// - Parameter blockingPool: where model inference and backend loading run.
    public init(stores: Stores, policies: PolicyRegistry, logger: Logger, blockingPool: NIOThreadPool = .singleton) {
        self.stores = stores
        self.policies = policies
        catalog = ExperimentCatalog(repository: stores.repository, registry: policies)
        assignments = AssignmentService(catalog: catalog, decisionLog: stores.decisionLog, cache: stores.cache)
        rewards = RewardService(catalog: catalog, decisionLog: stores.decisionLog, cache: stores.cache, logger: logger)
        let registry = BackendRegistry(folders: policies.folders, services: policies.services, cacheFolder: policies.cacheFolder,
                                       checker: policies.checker)
        backends = BackendService(registry: registry, repository: stores.backends, quarantine: stores.quarantine, threadPool: blockingPool,
                                  logger: logger)
        predictions = PredictionService(assignments: assignments, backends: backends, cache: stores.cache, threadPool: blockingPool)
        if let log = stores.decisionLog as? PostgresDecisionLog {
            stores.cache.install(rebuilder: StatisticsRebuilder(catalog: catalog, decisionLog: log, store: stores.statistics, logger: logger))
        }
    }

    /// Rebuilds shared state from PostgreSQL (see ``StatisticsRebuilder``).
    public var rebuilder: StatisticsRebuilder? {
        (stores.decisionLog as? PostgresDecisionLog).map {
            StatisticsRebuilder(catalog: catalog, decisionLog: $0, store: stores.statistics, logger: Logger(label: "switchboard.rebuild"))
        }
    }

    /// Everything that runs in the background: the group-commit writer, the Redis flusher,
    /// the default-reward sweep, the check of Redis against PostgreSQL (after the start, then every `reconcileInterval`).
    public func services(logger: Logger, reconcileInterval: Duration = .seconds(300)) -> [any Service] {
        var services = stores.services + [BackendBootstrap(backends: backends)]
        if let log = stores.decisionLog as? PostgresDecisionLog {
            services.append(DefaultRewardService(repository: stores.repository, decisionLog: log, rewards: rewards, logger: logger))
            if let rebuilder {
                // A commit is in Redis within a flush interval while its replica lives: allow five.
                let settle = max(.seconds(10), stores.cache.flushInterval * 5)
                services.append(LearningReconciler(repository: stores.repository, decisionLog: log, statistics: stores.statistics, rebuilder: rebuilder,
                                                   interval: reconcileInterval, settle: settle, logger: logger))
            }
        }
        return services
    }
}

/// Builds the router: open health routes, client routes and admin routes (each behind
/// its API-key check), all behind the problem-response middleware.
public func buildRouter(_ components: ServiceComponents, keys: APIKeys, metrics: PrometheusCollectorRegistry? = nil,
                        limits: ServerLimits = ServerLimits()) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: InFlightLimitMiddleware(limit: limits.maxInFlight))
    let client = router.group().add(middleware: AuthMiddleware(keys: keys, required: .client))
    let admin = router.group().add(middleware: AuthMiddleware(keys: keys, required: .admin))
    let stores = components.stores

    HealthController(decisionLog: stores.decisionLog, statistics: stores.statistics).addRoutes(to: router)
    if let metrics {
        MetricsController(registry: metrics, decisionLog: stores.decisionLog as? PostgresDecisionLog, policies: components.policies).addRoutes(to: router)
    }
    let experiments = ExperimentsController<BasicRequestContext>(catalog: components.catalog, statistics: stores.statistics, cache: stores.cache,
                                                                 results: stores.results)
    experiments.addReadRoutes(to: client)
    experiments.addManagementRoutes(to: admin)
    AssignmentController(service: components.assignments).addRoutes(to: client)
    PredictionController(service: components.predictions, catalog: components.catalog).addRoutes(to: client)
    BackendsController(service: components.backends).addRoutes(to: admin)
    RewardsController(service: components.rewards).addRoutes(to: client)
    PoliciesController(registry: components.policies, libraries: stores.libraries, quarantine: stores.quarantine).addRoutes(to: admin)
    return router
}

/// Builds the HTTP application on `host:port`, with its background services.
public func buildApplication(
    host: String, port: Int, stores: Stores, policies: PolicyRegistry, keys: APIKeys = APIKeys(admin: [], client: []),
    metrics: PrometheusCollectorRegistry? = nil, limits: ServerLimits = ServerLimits(), logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let components = ServiceComponents(stores: stores, policies: policies, logger: logger)
    return Application(
        router: buildRouter(components, keys: keys, metrics: metrics, limits: limits),
        server: .http1(configuration: .init(idleTimeout: TimeAmount(limits.idleTimeout))),
        configuration: .init(address: .hostname(host, port: port), serverName: "switchboard",
                             availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
        services: components.services(logger: logger),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
