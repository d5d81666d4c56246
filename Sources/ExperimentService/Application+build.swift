import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PluginHost
import ServiceLifecycle

/// The stores a service instance works with.
public struct Stores: Sendable {
    public var repository: any ExperimentRepository
    public var rewardLog: any RewardLog
    public var state: RedisStateStore
    public var libraries: any PolicyLibraryRepository
    /// This replica's batched view of the statistics in Redis.
    public var shared: SharedPolicyState
    /// The long-running parts of the stores (the group-commit writer, the Redis flusher), run by the application.
    public var services: [any Service] {
        [rewardLog as? any Service, shared].compactMap { $0 }
    }

    public init(repository: any ExperimentRepository, rewardLog: any RewardLog, state: RedisStateStore,
                libraries: any PolicyLibraryRepository, logger: Logger = Logger(label: "switchboard")) {
        self.repository = repository
        self.rewardLog = rewardLog
        self.state = state
        self.libraries = libraries
        self.shared = SharedPolicyState(store: state, logger: logger)
    }

    /// The real stores: PostgreSQL through libpq and Redis through hiredis, with their
    /// blocking calls on `threadPool`.
    public static func connect(database: PostgresDatabase, redisURL: String, threadPool: NIOThreadPool,
                               logger: Logger = Logger(label: "switchboard")) throws -> Stores {
        Stores(
            repository: PostgresExperimentRepository(database: database),
            rewardLog: PostgresRewardLog(database: database, logger: logger),
            state: try RedisStateStore(url: redisURL, threadPool: threadPool),
            libraries: PostgresPolicyLibraryRepository(database: database),
            logger: logger
        )
    }
}

/// Builds the router: open health routes, client routes and admin routes (each behind
/// its API-key check), all behind the problem-response middleware.
public func buildRouter(stores: Stores, policies: PolicyRegistry, keys: APIKeys, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    let client = router.group().add(middleware: AuthMiddleware(keys: keys, required: .client))
    let admin = router.group().add(middleware: AuthMiddleware(keys: keys, required: .admin))

    let catalog = ExperimentCatalog(repository: stores.repository, registry: policies, state: stores.state)
    HealthController(rewardLog: stores.rewardLog, state: stores.state).addRoutes(to: router)
    let experiments = ExperimentsController<BasicRequestContext>(catalog: catalog, state: stores.state, shared: stores.shared)
    experiments.addReadRoutes(to: client)
    experiments.addManagementRoutes(to: admin)
    AssignmentController(
        service: AssignmentService(catalog: catalog, rewardLog: stores.rewardLog, shared: stores.shared)
    ).addRoutes(to: client)
    RewardsController(
        service: RewardService(catalog: catalog, rewardLog: stores.rewardLog, shared: stores.shared, logger: logger)
    ).addRoutes(to: client)
    PoliciesController(registry: policies, libraries: stores.libraries).addRoutes(to: admin)
    return router
}

/// Builds the HTTP application on `host:port`.
public func buildApplication(
    host: String, port: Int, stores: Stores, policies: PolicyRegistry, keys: APIKeys = APIKeys(admin: [], client: []), logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(stores: stores, policies: policies, keys: keys, logger: logger),
        configuration: .init(address: .hostname(host, port: port), serverName: "switchboard"),
        services: stores.services,
        onServerRunning: onServerRunning,
        logger: logger
    )
}
