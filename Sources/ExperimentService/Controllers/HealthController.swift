import Hummingbird

/// `GET /healthz` (the process is up) and `GET /readyz` (PostgreSQL and Redis answer), and
/// the same as the Open Inference Protocol asks: `GET /v2/health/live` (`{"live": true}`)
/// and `GET /v2/health/ready` (`{"ready": true}`, or a 503 naming the store that is down).
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
        router.get("/v2/health/live") { _, _ in Live(live: true) }
        router.get("/v2/health/ready") { request, context in
            _ = try await ready(request, context: context)
            return Ready(ready: true)
        }
    }

    public struct Live: ResponseEncodable, Decodable, Sendable { public var live: Bool }
    public struct Ready: ResponseEncodable, Decodable, Sendable { public var ready: Bool }

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
