import Hummingbird

/// `GET /healthz` (the process is up) and `GET /readyz` (PostgreSQL and Redis answer).
public struct HealthController<Context: RequestContext>: Sendable {
    let decisionLog: any DecisionLog
    let statistics: any StatisticsStore

    public init(decisionLog: any DecisionLog, statistics: any StatisticsStore) {
        self.decisionLog = decisionLog
        self.statistics = statistics
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/healthz") { _, _ in HealthStatus(status: "ok") }
        router.get("/readyz", use: ready)
    }

    /// The body of a healthy answer.
    public struct HealthStatus: ResponseEncodable, Decodable, Sendable {
        public var status: String
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> HealthStatus {
        async let postgres: Void = decisionLog.ping()
        async let redis: Void = statistics.ping()
        _ = try await (postgres, redis)
        return HealthStatus(status: "ready")
    }
}
