import Prometheus
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PluginHost
import ServiceLifecycle

/// The parts of one service instance, wired once over its ``Stores``: the catalog, the
/// group commit, the statistics cache, and the services the routes and background jobs share.
public struct ServiceComponents: Sendable {
    public let stores: Stores
    public let policies: PolicyRegistry
    public let catalog: ExperimentCatalog
    public let groupCommit: GroupCommit
    public let cache: StatisticsCache
    public let rebuilder: StatisticsRebuilder
    public let assignments: AssignmentService
    public let rewards: RewardService
    public let models: ModelService
    public let predictions: PredictionService

    /// - Parameters:
    ///   - flushInterval: how often this replica sends its additions to the statistics store.
    ///   - blockingPool: where model inference and backend loading run.
    public init(stores: Stores, policies: PolicyRegistry, flushInterval: Duration = .milliseconds(20), logger: Logger,
                blockingPool: NIOThreadPool = .singleton) {
        self.stores = stores
        self.policies = policies
        catalog = ExperimentCatalog(repository: stores.repository, registry: policies)
        groupCommit = GroupCommit(log: stores.decisionLog, units: stores.stickyUnits, logger: logger)
        cache = StatisticsCache(store: stores.statistics, flushInterval: flushInterval, logger: logger)
        rebuilder = StatisticsRebuilder(catalog: catalog, decisionLog: stores.decisionLog, store: stores.statistics,
                                        logger: Logger(label: "switchboard.rebuild"))
        cache.install(rebuilder: rebuilder)
        assignments = AssignmentService(catalog: catalog, groupCommit: groupCommit, units: stores.stickyUnits, cache: cache)
        rewards = RewardService(catalog: catalog, decisionLog: stores.decisionLog, groupCommit: groupCommit, cache: cache, logger: logger)
        let registry = ModelRegistry(folders: policies.folders, services: policies.services, cacheFolder: policies.cacheFolder,
                                       checker: policies.checker)
        models = ModelService(registry: registry, repository: stores.models, quarantine: stores.quarantine, threadPool: blockingPool,
                                  logger: logger)
        predictions = PredictionService(assignments: assignments, models: models, cache: cache, threadPool: blockingPool)
    }

    /// Everything that runs in the background: the group commit, the statistics flusher,
    /// the default-reward sweep, the rollups' compaction, and the check of the statistics against the decision log
    /// (after the start, then every `reconcileInterval`).
    public func services(logger: Logger, reconcileInterval: Duration = .seconds(300)) -> [any Service] {
        // A commit is in the statistics store within a flush interval while its replica lives: allow five.
        let settle = max(.seconds(10), cache.flushInterval * 5)
        return [
            groupCommit, cache, ModelBootstrap(models: models),
            DefaultRewardService(repository: stores.repository, decisionLog: stores.decisionLog, rewards: rewards, logger: logger),
            RollupCompaction(results: stores.results, logger: logger),
            LearningReconciler(repository: stores.repository, decisionLog: stores.decisionLog, statistics: stores.statistics,
                               rebuilder: rebuilder, interval: reconcileInterval, settle: settle, logger: logger),
        ]
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
    OpenAPIController<BasicRequestContext>().addRoutes(to: router)
    if let metrics {
        MetricsController(registry: metrics, groupCommit: components.groupCommit, policies: components.policies).addRoutes(to: router)
    }
    let experiments = ExperimentsController<BasicRequestContext>(catalog: components.catalog, statistics: stores.statistics, cache: components.cache,
                                                                 results: stores.results, rebuilder: components.rebuilder)
    experiments.addReadRoutes(to: client)
    experiments.addManagementRoutes(to: admin)
    AssignmentController(service: components.assignments).addRoutes(to: client)
    PredictionController(service: components.predictions, catalog: components.catalog).addRoutes(to: client)
    let inference = InferenceProtocolController<BasicRequestContext>(service: components.predictions, catalog: components.catalog)
    inference.addServerRoutes(to: router)
    inference.addModelRoutes(to: client)
    FlagsController<BasicRequestContext>(assignments: components.assignments, rewards: components.rewards, catalog: components.catalog,
                                         decisionLog: stores.decisionLog).addRoutes(to: client)
    ModelsController(service: components.models).addRoutes(to: admin)
    RewardsController(service: components.rewards).addRoutes(to: client)
    ResultsPageController(catalog: components.catalog, results: stores.results, keys: keys).addRoutes(to: router)
    PoliciesController(registry: components.policies, libraries: stores.libraries, quarantine: stores.quarantine).addRoutes(to: admin)
    return router
}

/// Builds the HTTP application on `host:port`, with its background services (and any
/// `extraServices` over the same components, such as a ``StreamConsumer``).
public func buildApplication(
    host: String, port: Int, stores: Stores, policies: PolicyRegistry, keys: APIKeys = APIKeys(admin: [], client: []),
    metrics: PrometheusCollectorRegistry? = nil, limits: ServerLimits = ServerLimits(), flushInterval: Duration = .milliseconds(20),
    logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
    extraServices: (ServiceComponents) -> [any Service] = { _ in [] }
) -> some ApplicationProtocol {
    let components = ServiceComponents(stores: stores, policies: policies, flushInterval: flushInterval, logger: logger)
    return Application(
        router: buildRouter(components, keys: keys, metrics: metrics, limits: limits),
        server: .http1(configuration: .init(idleTimeout: TimeAmount(limits.idleTimeout))),
        configuration: .init(address: .hostname(host, port: port), serverName: "switchboard",
                             availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
        services: components.services(logger: logger) + extraServices(components),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
