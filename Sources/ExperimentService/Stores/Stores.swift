import Logging

/// The stores a service instance works with, each behind its protocol: PostgreSQL and
/// Redis in production (``connect(database:redisURL:logger:)``), or in-memory twins
/// (``inMemory()``) for tests of everything above the stores.
public struct Stores: Sendable {
    public var repository: any ExperimentRepository
    public var decisionLog: any DecisionLog
    public var statistics: any StatisticsStore
    public var stickyUnits: any StickyUnits
    public var libraries: any PolicyLibraryRepository
    public var models: any ModelRepository
    public var results: any ResultsStore
    /// Plugin libraries switched off after they crashed a server.
    public var quarantine: any PluginQuarantine

    public init(repository: any ExperimentRepository, decisionLog: any DecisionLog, statistics: any StatisticsStore,
                stickyUnits: any StickyUnits, libraries: any PolicyLibraryRepository, models: any ModelRepository,
                results: any ResultsStore, quarantine: any PluginQuarantine) {
        self.repository = repository
        self.decisionLog = decisionLog
        self.statistics = statistics
        self.stickyUnits = stickyUnits
        self.libraries = libraries
        self.models = models
        self.results = results
        self.quarantine = quarantine
    }

    /// The real stores: PostgreSQL through libpq (`database`'s pool; the group commit opens
    /// its own connection) and Redis through hiredis (one pipelining thread, and the group
    /// commit's connection for sticky claims).
    public static func connect(database: PostgresDatabase, redisURL: String) throws -> Stores {
        let redis = try RedisPipeline(url: redisURL)
        return Stores(
            repository: PostgresExperimentRepository(database: database),
            decisionLog: PostgresDecisionLog(database: database),
            statistics: RedisStatisticsStore(pipeline: redis),
            stickyUnits: RedisStickyUnits(pipeline: redis),
            libraries: PostgresPolicyLibraryRepository(database: database),
            models: PostgresModelRepository(database: database),
            results: PostgresResults(database: database),
            quarantine: PostgresPluginQuarantine(database: database)
        )
    }
}
