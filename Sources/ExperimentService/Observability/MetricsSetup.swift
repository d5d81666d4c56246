import Metrics
import Prometheus

/// Prometheus metrics for the whole process, through swift-metrics: the service, the
/// stores and Hummingbird's request middleware record with the `Metrics` API, and
/// `GET /metrics` renders the registry in the Prometheus text format.
public enum MetricsSetup {
    /// Bootstraps swift-metrics with a Prometheus registry (once per process) and returns it.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitize(name), labels.map { (sanitize($0.0), $0.1) })
        }
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Prometheus names allow `[a-zA-Z_:][a-zA-Z0-9_:]*`: anything else becomes `_`.
    static func sanitize(_ name: String) -> String {
        String(name.unicodeScalars.enumerated().map { i, c -> Character in
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c == ":" || (i > 0 && c >= "0" && c <= "9")
            return ok ? Character(c) : "_"
        })
    }
}

/// The metric names Switchboard records.
enum MetricNames {
    static let assignments = "switchboard_assignments_total"
    static let rewards = "switchboard_rewards_total"
    static let pluginErrors = "switchboard_plugin_errors_total"
    static let groupCommitRows = "switchboard_group_commit_rows"
    static let groupCommitSeconds = "switchboard_postgres_commit_seconds"
    static let writeQueueDepth = "switchboard_write_queue_depth"
    static let redisFlushSeconds = "switchboard_redis_flush_seconds"
    static let redisStickySeconds = "switchboard_redis_sticky_claim_seconds"
    static let pluginMetric = "switchboard_plugin_metric"
}
