import Foundation
import Logging

/// Rebuilds an experiment's statistics and counters in Redis from PostgreSQL, the record.
///
/// Exact while rewards keep arriving on every replica:
/// 1. fence the statistics hash (its epoch becomes `rebuilding:…`), so replicas hold the
///    deltas they have not flushed (the flush script refuses a foreign epoch);
/// 2. in one `REPEATABLE READ` snapshot, replay the policy's update over every reward it
///    learned from (with the context, propensity and time stored with it) starting from
///    the prior, and count decisions and rewards per arm;
/// 3. install the result with a new epoch and that snapshot, if the fence still holds.
///
/// Replicas that meet the new epoch drop pending deltas of commits the snapshot saw
/// (every delta carries the transaction id of its commit) and flush the rest into it, so
/// each learned reward is counted exactly once.
public struct StatisticsRebuilder: Sendable {
    /// What a rebuild did.
    public struct Report: Sendable, CustomStringConvertible {
        public var experiment: String
        public var epoch: String
        public var snapshot: DatabaseSnapshot
        public var learnedRewards: Int
        public var decisions: Int64
        public var statistics: [Double]

        public var description: String {
            "\(experiment): \(decisions) decisions, \(learnedRewards) learned rewards replayed (epoch \(epoch), snapshot \(snapshot))"
        }
    }

    let catalog: ExperimentCatalog
    let decisionLog: any DecisionLog
    let store: any StatisticsStore
    /// How long a fence holds before another replica may take the rebuild over.
    let lease: Duration
    let logger: Logger

    public init(catalog: ExperimentCatalog, decisionLog: any DecisionLog, store: any StatisticsStore,
                lease: Duration = .seconds(30), logger: Logger) {
        self.catalog = catalog
        self.decisionLog = decisionLog
        self.store = store
        self.lease = lease
        self.logger = logger
    }

    /// Rebuilds `experiment`. Without `force` only statistics that are missing are rebuilt
    /// (what replicas do when Redis lost them); with `force` existing ones are replaced
    /// (`switchboard rebuild-state`). Returns nil if there was nothing to do or another
    /// rebuild holds the experiment.
    public func rebuild(experiment key: String, force: Bool) async throws -> Report? {
        let entry = try await catalog.entry(key)
        let policy = entry.policy
        let features = entry.experiment.contextFeatures
        let prior: [Double]
        do { prior = try policy.initialState() } catch {
            throw ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        guard let fence = try await store.fence(experiment: key, token: token, lease: lease, force: force) else { return nil }
        let started = ContinuousClock.now
        let replay = try await decisionLog.replay(experiment: key, armCount: entry.experiment.arms.count, initial: prior) { state, reward in
            guard !state.isEmpty else { return }
            let context = try ContextVector.make(reward.context, features: features)
            let delta = try policy.update(state: state, context: context, arm: reward.arm, reward: reward.value,
                                          propensity: reward.propensity, time: reward.policyTime)
            for i in state.indices { state[i] += delta[i] }
        }
        let epoch = token
        guard try await store.install(experiment: key, fence: fence, epoch: epoch, snapshot: replay.snapshot,
                                      state: replay.result, counters: replay.counters) else {
            logger.warning("a rebuild lost its fence to another; its result is dropped", metadata: ["experiment": "\(key)"])
            return nil
        }
        let report = Report(experiment: key, epoch: epoch, snapshot: replay.snapshot, learnedRewards: replay.learnedRewards,
                            decisions: replay.counters.reduce(0) { $0 + $1.assignments }, statistics: replay.result)
        logger.info("rebuilt the statistics from PostgreSQL", metadata: [
            "experiment": "\(key)", "learned_rewards": "\(report.learnedRewards)", "decisions": "\(report.decisions)",
            "took": "\(ContinuousClock.now - started)",
        ])
        return report
    }
}
