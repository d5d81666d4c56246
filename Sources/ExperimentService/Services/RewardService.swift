import Foundation
import Logging

/// Records rewards durably and idempotently, then counts them in Redis.
public struct RewardService: Sendable {
    /// What the client is told about one reward.
    public enum Status: String, Sendable, Codable {
        /// Committed now.
        case recorded
        /// Already stored with the same value; not counted again.
        case duplicate
    }

    let rewardLog: any RewardLog
    let state: any StateStore
    let logger: Logger

    public init(rewardLog: any RewardLog, state: any StateStore, logger: Logger) {
        self.rewardLog = rewardLog
        self.state = state
        self.logger = logger
    }

    /// Stores a reward; returns only after PostgreSQL committed it.
    ///
    /// The Redis counters are a cache: if Redis fails after the commit, the reward is
    /// still acknowledged (it is durable) and the failure is logged.
    public func reward(decisionID: String, metric: String?, value: Double) async throws -> Status {
        guard let id = UUID(uuidString: decisionID) else {
            throw ServiceError.invalidField(path: "decision_id", reason: "must be a UUID; got '\(decisionID)'")
        }
        let metric = metric ?? "reward"
        guard ExperimentSpec.isValidName(metric) else {
            throw ServiceError.invalidField(path: "metric", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(metric)'")
        }
        guard value.isFinite else {
            throw ServiceError.invalidField(path: "reward", reason: "must be a finite number")
        }
        switch try await rewardLog.record(Reward(decisionID: id, metric: metric, value: value)) {
        case .unknownDecision:
            throw ServiceError.unknownDecision(id: decisionID)
        case .conflict(let existing):
            throw ServiceError.rewardConflict(decisionID: decisionID, metric: metric, existing: existing, sent: value)
        case .duplicate:
            return .duplicate
        case .recorded(let experiment, let arm):
            if metric == "reward" {
                do {
                    try await state.recordReward(experiment: experiment, armIndex: arm, value: value)
                } catch {
                    logger.error("reward committed but not counted in Redis", metadata: ["decision_id": "\(decisionID)", "error": "\(error)"])
                }
            }
            return .recorded
        }
    }
}
