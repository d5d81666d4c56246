import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PluginHost

/// The stores a service instance works with.
public struct Stores: Sendable {
    public var repository: any ExperimentRepository
    public var rewardLog: any RewardLog
    public var state: any StateStore
    public var libraries: any PolicyLibraryRepository

    public init(repository: any ExperimentRepository, rewardLog: any RewardLog, state: any StateStore,
                libraries: any PolicyLibraryRepository) {
        self.repository = repository
        self.rewardLog = rewardLog
        self.state = state
        self.libraries = libraries
    }

    /// The real stores: PostgreSQL through libpq and Redis through hiredis, with their
    /// blocking calls on `threadPool`.
    public static func connect(database: PostgresDatabase, redisURL: String, threadPool: NIOThreadPool) throws -> Stores {
        Stores(
            repository: PostgresExperimentRepository(database: database),
            rewardLog: PostgresRewardLog(database: database),
            state: try RedisStateStore(url: redisURL, threadPool: threadPool),
            libraries: PostgresPolicyLibraryRepository(database: database)
        )
    }
}

/// Builds the router with every route and the problem-response middleware.
public func buildRouter(stores: Stores, policies: PolicyRegistry, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    let catalog = ExperimentCatalog(repository: stores.repository, registry: policies, state: stores.state)
    HealthController(rewardLog: stores.rewardLog, state: stores.state).addRoutes(to: router)
    ExperimentsController(catalog: catalog, state: stores.state).addRoutes(to: router)
    AssignmentController(
        service: AssignmentService(catalog: catalog, rewardLog: stores.rewardLog, state: stores.state)
    ).addRoutes(to: router)
    RewardsController(
        service: RewardService(catalog: catalog, rewardLog: stores.rewardLog, state: stores.state, logger: logger)
    ).addRoutes(to: router)
    PoliciesController(registry: policies, libraries: stores.libraries).addRoutes(to: router)
    return router
}

/// Builds the HTTP application on `host:port`.
public func buildApplication(
    host: String, port: Int, stores: Stores, policies: PolicyRegistry, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(stores: stores, policies: policies, logger: logger),
        configuration: .init(address: .hostname(host, port: port), serverName: "switchboard"),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
