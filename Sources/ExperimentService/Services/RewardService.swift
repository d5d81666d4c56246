import Foundation
import Logging
import PluginHost

/// Records rewards durably and idempotently, then teaches the experiment's policy.
public struct RewardService: Sendable {
    /// What the client is told about one reward.
    public enum Status: String, Sendable, Codable {
        /// Committed now.
        case recorded
        /// Already stored with the same value; not counted again.
        case duplicate
    }

    /// The metric that policies learn from; other metrics are stored for analysis only.
    public static let learningMetric = "reward"

    let catalog: ExperimentCatalog
    let rewardLog: any RewardLog
    let shared: SharedPolicyState
    let logger: Logger

    public init(catalog: ExperimentCatalog, rewardLog: any RewardLog, shared: SharedPolicyState, logger: Logger) {
        self.catalog = catalog
        self.rewardLog = rewardLog
        self.shared = shared
        self.logger = logger
    }

    /// Stores a reward; returns only after PostgreSQL committed it.
    ///
    /// The policy checks the reward first (a Bernoulli policy refuses 3.0 before anything
    /// is stored). After the commit the policy's delta and the counters are added to this
    /// replica's shared state and reach Redis with the next flush (retried while Redis is
    /// down, so an acknowledged reward is also learned from).
    public func reward(decisionID: String, metric: String?, value: Double) async throws -> Status {
        guard let id = UUID(uuidString: decisionID) else {
            throw ServiceError.invalidField(path: "decision_id", reason: "must be a UUID; got '\(decisionID)'")
        }
        let metric = metric ?? Self.learningMetric
        guard ExperimentSpec.isValidName(metric) else {
            throw ServiceError.invalidField(path: "metric", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(metric)'")
        }
        guard value.isFinite else {
            throw ServiceError.invalidField(path: "reward", reason: "must be a finite number")
        }
        guard let decision = try await rewardLog.decision(id: id) else { throw ServiceError.unknownDecision(id: decisionID) }
        let delta = metric == Self.learningMetric ? try await policyDelta(for: decision, reward: value) : nil

        switch try await rewardLog.record(Reward(decisionID: id, metric: metric, value: value)) {
        case .unknownDecision:
            throw ServiceError.unknownDecision(id: decisionID)
        case .conflict(let existing):
            throw ServiceError.rewardConflict(decisionID: decisionID, metric: metric, existing: existing, sent: value)
        case .duplicate:
            return .duplicate
        case .recorded(let experiment, let arm):
            guard metric == Self.learningMetric else { return .recorded }
            shared.count(experiment: experiment, arm: arm, rewards: 1, rewardSum: value)
            if let delta { shared.add(experiment: experiment, delta: delta) }
            return .recorded
        }
    }

    /// The policy's additive update for this reward (validates the reward through the plugin).
    /// Nothing is learned from decisions the policy did not make (control while paused) or
    /// once the experiment is stopped.
    func policyDelta(for decision: Decision, reward: Double) async throws -> [Double]? {
        let entry = try await catalog.entry(decision.experiment)
        let policy = entry.policy
        guard policy.stateLength > 0, entry.experiment.status != .stopped, decision.policy == policy.plugin.id else { return nil }
        let context = try ContextVector.make(decision.context, features: entry.experiment.contextFeatures)
        let current = try await shared.statistics(experiment: decision.experiment, length: policy.stateLength) { try policy.initialState() }
        do {
            return try policy.update(state: current, context: context, arm: decision.armIndex, reward: reward,
                                     propensity: decision.propensity, time: Date().timeIntervalSince(entry.experiment.createdAt))
        } catch {
            throw error.code == PluginReportedError.invalidArgument
                ? ServiceError.policyRefused(policy: policy.plugin.id, message: error.message)
                : ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
    }
}
