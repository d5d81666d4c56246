import Hummingbird

/// `GET /healthz` (the process is up) and `GET /readyz` (PostgreSQL and Redis answer).
public struct HealthController<Context: RequestContext>: Sendable {
    let rewardLog: any RewardLog
    let state: any StateStore

    public init(rewardLog: any RewardLog, state: any StateStore) {
        self.rewardLog = rewardLog
        self.state = state
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
        async let postgres: Void = rewardLog.ping()
        async let redis: Void = state.ping()
        _ = try await (postgres, redis)
        return HealthStatus(status: "ready")
    }
}
