import Hummingbird
import Synchronization

/// The limits that keep one client's traffic from taking the server down: idle
/// connections close, connections and requests in progress are capped, bodies are capped
/// (``JSONBody/maxBytes``, a 413).
public struct ServerLimits: Sendable {
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Open connections past this wait in the listen backlog until one closes.
    public var maxConnections = 2_048
    /// Requests in progress past this get a 503 problem with `Retry-After: 1`.
    public var maxInFlight = 1_024

    public init() {}
}

/// Answers requests past ``ServerLimits/maxInFlight`` in progress with a 503 problem
/// (`overloaded`, `Retry-After: 1`) instead of queueing them without bound. The health
/// routes (the Open Inference Protocol's too) and metrics are not counted, so probes still
/// answer under load.
public struct InFlightLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let limit: Int
    let counter = Counter()

    public init(limit: Int) {
        self.limit = limit
    }

    /// Requests in progress now (for tests and metrics).
    public var inFlight: Int { counter.value.load(ordering: .relaxed) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch request.uri.path {
        case "/healthz", "/readyz", "/metrics", "/v2/health/live", "/v2/health/ready": return try await next(request, context)
        default: break
        }
        let now = counter.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { counter.value.wrappingSubtract(1, ordering: .relaxed) }
        guard now <= limit else {
            throw ServiceError.overloaded("\(limit) requests are in progress, the limit")
        }
        return try await next(request, context)
    }
}
