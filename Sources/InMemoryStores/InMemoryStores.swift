import ExperimentService

/// Every store in memory, wired like the real ones: for fast tests of everything above
/// the stores (the router, the services, the group commit) without PostgreSQL or Redis.
/// Not a way to run the service: nothing here survives the process.
public struct InMemoryStores: Sendable {
    public let experiments = InMemoryExperimentRepository()
    public let decisionLog: InMemoryDecisionLog
    public let statistics = InMemoryStatisticsStore()
    public let stickyUnits = InMemoryStickyUnits()
    public let libraries = InMemoryPolicyLibraryRepository()
    public let models = InMemoryModelRepository()
    public let quarantine = InMemoryPluginQuarantine()

    public init() {
        decisionLog = InMemoryDecisionLog(experiments: experiments)
    }

    /// The stores, as the service takes them.
    public var stores: Stores {
        Stores(repository: experiments, decisionLog: decisionLog, statistics: statistics, stickyUnits: stickyUnits, libraries: libraries,
               models: models, results: InMemoryResults(log: decisionLog, experiments: experiments), quarantine: quarantine)
    }
}
