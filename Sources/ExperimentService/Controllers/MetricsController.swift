import Hummingbird
import Metrics
import PluginHost
import Prometheus

/// `GET /metrics`: the Prometheus text format. Gauges that are cheaper to read than to keep
/// (the write-queue depth, the counters plugins report through the host) are set at scrape time.
public struct MetricsController<Context: RequestContext>: Sendable {
    let registry: PrometheusCollectorRegistry
    let groupCommit: GroupCommit
    let policies: PolicyRegistry

    public init(registry: PrometheusCollectorRegistry, groupCommit: GroupCommit, policies: PolicyRegistry) {
        self.registry = registry
        self.groupCommit = groupCommit
        self.policies = policies
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        Gauge(label: MetricNames.writeQueueDepth).record(groupCommit.statistics.queued)
        for (name, value) in policies.services.pluginCounters() {
            Gauge(label: MetricNames.pluginMetric, dimensions: [("name", name)]).record(value)
        }
        var buffer = [UInt8]()
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
