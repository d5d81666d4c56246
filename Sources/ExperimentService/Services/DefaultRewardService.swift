import Logging
import ServiceLifecycle

/// Gives decisions whose reward window ended without a reward their experiment's default
/// reward (as Azure Personalizer does), and teaches the policy from it. Runs every
/// `interval` on every replica; the database decides which replica defaults each decision.
public struct DefaultRewardService: Service {
    let repository: any ExperimentRepository
    let decisionLog: any DecisionLog
    let rewards: RewardService
    let interval: Duration
    let logger: Logger

    public init(repository: any ExperimentRepository, decisionLog: any DecisionLog, rewards: RewardService,
                interval: Duration = .seconds(1), logger: Logger) {
        self.repository = repository
        self.decisionLog = decisionLog
        self.rewards = rewards
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            do { try await sweep() } catch {
                logger.warning("default-reward sweep failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One pass over every experiment with a default reward. Skipped while Redis does not
    /// answer: a replica that cannot share what it learns leaves the defaults to the others.
    public func sweep() async throws {
        try await rewards.cache.checkAvailable()
        for experiment in try await repository.all() where ![.stopped, .archived, .deleted].contains(experiment.status) {
            guard let window = experiment.rewardWindowSeconds, let value = experiment.defaultReward else { continue }
            let defaulted = try await decisionLog.recordDefaultRewards(experiment: experiment.key, windowSeconds: window, value: value,
                                                                     policy: experiment.policyID, limit: 1_000)
            if !defaulted.isEmpty { await rewards.learnDefaults(defaulted, value: value) }
        }
    }
}
