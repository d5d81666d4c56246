import Logging
import ServiceLifecycle

/// Merges the rollup rows each group-commit batch appends (``ResultsStore/compactRollups()``)
/// every `interval`, so the statistics views sum a few rows per key however many batches
/// were written. Every replica runs it; concurrent runs are safe.
public struct RollupCompaction: Service {
    let results: any ResultsStore
    let interval: Duration
    let logger: Logger

    public init(results: any ResultsStore, interval: Duration = .seconds(2), logger: Logger) {
        self.results = results
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            do { _ = try await results.compactRollups() } catch {
                logger.warning("compacting the rollups failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }
}
