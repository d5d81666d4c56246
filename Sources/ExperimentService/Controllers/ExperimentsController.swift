import Hummingbird
import PluginSupport

/// `POST /v1/experiments`, `GET /v1/experiments`, `GET /v1/experiments/{key}` and its
/// results, `PATCH /v1/experiments/{key}`, the lifecycle routes and `DELETE`.
public struct ExperimentsController<Context: RequestContext>: Sendable {
    let catalog: ExperimentCatalog
    let statistics: any StatisticsStore
    let cache: StatisticsCache
    let results: any ResultsStore
    let rebuilder: StatisticsRebuilder?

    public init(catalog: ExperimentCatalog, statistics: any StatisticsStore, cache: StatisticsCache, results: any ResultsStore,
                rebuilder: StatisticsRebuilder? = nil) {
        self.catalog = catalog
        self.statistics = statistics
        self.cache = cache
        self.results = results
        self.rebuilder = rebuilder
    }

    /// Reading experiments (client scope).
    public func addReadRoutes(to router: some RouterMethods<Context>) {
        router.get("/v1/experiments", use: list)
        router.get("/v1/experiments/{key}", use: show)
        router.get("/v1/experiments/{key}/results", use: showResults)
    }

    @Sendable func showResults(_ request: Request, context: Context) async throws -> ResultsView {
        let key = try context.parameters.require("key")
        let experiment = try await catalog.readable(key).experiment
        let phase = try experiment.phase(fromQuery: request.uri.queryParameters["phase"].map(String.init))
        return ResultsView(results: try await results.results(for: experiment, phase: phase))
    }

    /// Managing experiments (admin scope).
    public func addManagementRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/experiments", use: create)
        router.patch("/v1/experiments/{key}", use: change)
        for action in [ExperimentCatalog.LifecycleAction.start, .pause, .stop, .archive] {
            router.post("/v1/experiments/{key}/\(action.rawValue)") { _, context in
                try await self.transition(context: context, action)
            }
        }
        router.delete("/v1/experiments/{key}") { _, context in
            _ = try await self.transition(context: context, .delete)
            return HTTPResponse.Status.noContent
        }
    }

    /// A change to a running experiment: a new phase (200 with the experiment; unchanged
    /// when nothing differs). A policy with statistics whose configuration changed (a new
    /// arm, a new config) gets them rebuilt from PostgreSQL under the new configuration.
    @Sendable func change(_ request: Request, context: Context) async throws -> ExperimentView {
        let key = try context.parameters.require("key")
        let body = try await JSONBody.decode(ExperimentChange.self, from: request)
        let (experiment, kinds) = try await catalog.change(key, body)
        if !Set(kinds).isDisjoint(with: [.arms, .policy]), let rebuilder, try await catalog.entry(key).policy.stateLength > 0 {
            _ = try await rebuilder.rebuild(experiment: key, force: true)
        }
        var view = ExperimentView(experiment, counters: nil)
        view.changed = kinds.map(\.rawValue)
        return view
    }

    func transition(context: Context, _ action: ExperimentCatalog.LifecycleAction) async throws -> ExperimentView {
        let key = try context.parameters.require("key")
        let experiment = try await catalog.transition(key, action)
        return ExperimentView(experiment, counters: nil)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> EditedResponse<ExperimentView> {
        let spec = try await JSONBody.decode(ExperimentSpec.self, from: request)
        let experiment = try await catalog.create(spec)
        let counters = [ArmCounters](repeating: ArmCounters(), count: experiment.arms.count)
        return EditedResponse(
            status: .created,
            headers: [.location: "/v1/experiments/\(experiment.key)"],
            response: ExperimentView(experiment, counters: counters)
        )
    }

    /// Every experiment but archived and deleted ones; `?include=archived` lists archived ones too.
    @Sendable func list(_ request: Request, context: Context) async throws -> ExperimentList {
        let archived = request.uri.queryParameters["include"] == "archived"
        let experiments = try await catalog.all().filter { $0.status != .deleted && (archived || $0.status != .archived) }
        return ExperimentList(experiments: experiments.map { ExperimentView($0, counters: nil) })
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> ExperimentView {
        let key = try context.parameters.require("key")
        let entry = try await catalog.readable(key)
        let experiment = entry.experiment
        await cache.flush(experiment: key)  // this replica's counts first, so the answer includes them
        let counters = try await statistics.counters(experiment: key, armCount: experiment.arms.count)
        var view = ExperimentView(experiment, counters: counters)
        view.statistics = try await cache.statistics(experiment: key, length: entry.policy.stateLength)
        return view
    }
}

/// The response body for one experiment: its definition and, where read, live per-arm counters.
public struct ExperimentView: ResponseEncodable, Decodable, Sendable {
    public struct ArmView: Codable, Sendable {
        public var name: String
        public var weight: Double
        public var backend: String?
        public var retired: Bool?
        /// The arm's value as a flag (``Experiment/Arm/value``).
        public var value: JSONValue?
        public var assignments: Int64?
        public var rewards: Int64?
        public var rewardSum: Double?
        public var meanReward: Double?

        enum CodingKeys: String, CodingKey {
            case name, weight, backend, retired, value, assignments, rewards
            case rewardSum = "reward_sum"
            case meanReward = "mean_reward"
        }
    }

    public var key: String
    public var status: String
    public var control: String
    public var arms: [ArmView]
    public var policy: Experiment.PolicyReference?
    public var contextFeatures: [String]
    public var stickyTTLSeconds: Int?
    public var rewardWindowSeconds: Int?
    public var defaultReward: Double?
    public var salt: String
    public var hashVersion: Int
    public var metrics: [Metric]
    public var analysis: Analysis
    /// The current phase (1 at creation, one more with each change).
    public var phase: Int
    /// The policy statistics as this replica sees them (GET of one experiment only).
    public var statistics: [Double]?
    /// What a change altered (PATCH only; empty when nothing did).
    public var changed: [String]?

    enum CodingKeys: String, CodingKey {
        case key, status, control, arms, policy, salt, statistics, metrics, analysis, phase, changed
        case contextFeatures = "context_features"
        case stickyTTLSeconds = "sticky_ttl_seconds"
        case rewardWindowSeconds = "reward_window_seconds"
        case defaultReward = "default_reward"
        case hashVersion = "hash_version"
    }

    init(_ e: Experiment, counters: [ArmCounters]?) {
        key = e.key
        status = e.status.rawValue
        control = e.control
        policy = e.policy
        contextFeatures = e.contextFeatures
        stickyTTLSeconds = e.stickyTTLSeconds
        rewardWindowSeconds = e.rewardWindowSeconds
        defaultReward = e.defaultReward
        salt = e.salt
        hashVersion = e.hashVersion
        metrics = e.metrics
        analysis = e.analysis
        phase = e.phase
        arms = e.arms.enumerated().map { i, arm in
            let c = counters?[i]
            return ArmView(
                name: arm.name, weight: arm.weight, backend: arm.backend, retired: arm.retired ? true : nil, value: arm.value,
                assignments: c?.assignments, rewards: c?.rewards, rewardSum: c?.rewardSum,
                meanReward: c.flatMap { $0.rewards > 0 ? $0.rewardSum / Double($0.rewards) : nil }
            )
        }
    }
}

/// The response body of `GET /v1/experiments/{key}/results`.
public struct ResultsView: ResponseEncodable, Decodable, Sendable {
    public var results: ExperimentResults

    public init(results: ExperimentResults) { self.results = results }
    public init(from decoder: any Decoder) throws { results = try ExperimentResults(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try results.encode(to: encoder) }
}

/// The response body of `GET /v1/experiments`.
public struct ExperimentList: ResponseEncodable, Decodable, Sendable {
    public var experiments: [ExperimentView]
}
