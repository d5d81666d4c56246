import Logging
import ServiceLifecycle

/// Makes learning follow from the commit. A reward is committed first and reaches Redis
/// with its replica's next flush; a replica killed in between (or any other loss between
/// the two) leaves PostgreSQL with rewards that Redis never learned. Shortly after it starts
/// (a replica that starts may follow one that was killed) and then every `interval`, each
/// replica compares, per experiment, the decisions and rewards that Redis counted with what
/// PostgreSQL holds, and when they disagree rebuilds the experiment's statistics and
/// counters from PostgreSQL (``StatisticsRebuilder``, forced: exact while rewards keep coming).
/// Each pass counts every experiment's rows in PostgreSQL, so passes are minutes apart.
///
/// A commit reaches Redis within a flush interval (20 ms) while its replica lives, so Redis
/// must hold at least what was committed more than `settle` ago, and never more than what
/// PostgreSQL holds now (Redis is read first). Anything else is repaired.
public struct LearningReconciler: Service {
    let repository: any ExperimentRepository
    let decisionLog: any DecisionLog
    let statistics: any StatisticsStore
    let rebuilder: StatisticsRebuilder
    let interval: Duration
    let settle: Duration
    let logger: Logger

    public init(repository: any ExperimentRepository, decisionLog: any DecisionLog, statistics: any StatisticsStore, rebuilder: StatisticsRebuilder,
                interval: Duration = .seconds(300), settle: Duration = .seconds(10), logger: Logger) {
        self.repository = repository
        self.decisionLog = decisionLog
        self.statistics = statistics
        self.rebuilder = rebuilder
        self.interval = interval
        self.settle = settle
        self.logger = logger
    }

    public func run() async throws {
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // The first pass once what was committed before the start has settled; then jittered,
            // so replicas started together do not check together. A shutdown ends the wait.
            let wait = first ? settle + .seconds(5) : interval * Double.random(in: 0.75...1.25)
            first = false
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) } } catch { return }
            do { try await reconcileAll() } catch {
                logger.warning("checking Redis against PostgreSQL failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Checks every experiment once; returns the keys it repaired.
    @discardableResult
    public func reconcileAll() async throws -> [String] {
        var repaired: [String] = []
        for experiment in try await repository.all() where try await reconcile(experiment) {
            repaired.append(experiment.key)
        }
        return repaired
    }

    /// Checks one experiment and rebuilds it if Redis and PostgreSQL disagree; true if it did.
    public func reconcile(_ experiment: Experiment) async throws -> Bool {
        // Only statistics that exist: missing ones are rebuilt by the replicas that use them.
        guard case .ready = try await statistics.storedStatistics(experiment: experiment.key, length: 0) else { return false }
        let counted = try await statistics.counters(experiment: experiment.key, armCount: experiment.arms.count)
        let assignments = counted.reduce(0) { $0 + $1.assignments }, rewards = counted.reduce(0) { $0 + $1.rewards }
        let stored = try await decisionLog.learningCounts(experiment: experiment.key, settled: settle)
        let behind = assignments < stored.settledDecisions || rewards < stored.settledRewards
        let ahead = assignments > stored.decisions || rewards > stored.rewards
        guard behind || ahead else { return false }
        logger.warning("Redis disagrees with PostgreSQL; rebuilding the experiment's statistics", metadata: [
            "experiment": "\(experiment.key)", "redis_decisions": "\(assignments)", "redis_rewards": "\(rewards)",
            "postgres_decisions": "\(stored.decisions)", "postgres_rewards": "\(stored.rewards)",
        ])
        return try await rebuilder.rebuild(experiment: experiment.key, force: true) != nil
    }
}
