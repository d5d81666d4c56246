import Metrics
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

    /// One posted reward.
    public struct Item: Sendable {
        public var decisionID: String
        public var metric: String?
        public var value: Double
        public init(decisionID: String, metric: String?, value: Double) {
            self.decisionID = decisionID
            self.metric = metric
            self.value = value
        }
    }

    /// What happened to one reward that was accepted.
    public struct Outcome: Sendable, Equatable {
        public var status: Status
        /// The metric it was stored for.
        public var metric: String
        /// Whether the policy learns from it (false for other metrics, after the reward
        /// window, for stopped experiments and for decisions the policy did not make).
        public var learned: Bool
    }

    /// The largest reward magnitude accepted, 10^12: sums of rewards in Redis
    /// (`HINCRBYFLOAT`) and in the policies' statistics then stay finite for any number of
    /// rewards a service could store (about 10^296 would be needed to overflow).
    public static let maxMagnitude = 1e12
    /// The smallest non-zero reward magnitude accepted, 10^-100: the statistics multiply
    /// rewards (sums of squares, variances), and PostgreSQL refuses a product that
    /// underflows instead of rounding it to 0.
    public static let minMagnitude = 1e-100
    static let rangeText = "a finite number within ±1e12, and 0 or at least 1e-100 in magnitude"

    /// Whether `value` is a reward (or default reward) the service accepts.
    public static func isInRange(_ value: Double) -> Bool {
        value.isFinite && abs(value) <= maxMagnitude && (value == 0 || abs(value) >= minMagnitude)
    }

    /// The most rewards one batch request may carry.
    public static let maxBatch = 1_000

    let catalog: ExperimentCatalog
    let decisionLog: any DecisionLog
    let groupCommit: GroupCommit
    let cache: StatisticsCache
    let logger: Logger

    public init(catalog: ExperimentCatalog, decisionLog: any DecisionLog, groupCommit: GroupCommit, cache: StatisticsCache, logger: Logger) {
        self.catalog = catalog
        self.decisionLog = decisionLog
        self.groupCommit = groupCommit
        self.cache = cache
        self.logger = logger
    }

    /// Stores one reward; returns only after PostgreSQL committed it.
    public func reward(decisionID: String, metric: String?, value: Double) async throws -> Outcome {
        try await rewards([Item(decisionID: decisionID, metric: metric, value: value)])[0].get()
    }

    /// Stores many rewards with one decision look-up and one group commit; each item gets
    /// its own result, so one bad item does not fail the others: every reward that was
    /// committed is learned from, whatever happened to the rest of the request (a client
    /// that retries a failed item gets `duplicate` for the others, and they were learned).
    ///
    /// The policy checks each reward first (a Bernoulli policy refuses 3.0 before anything
    /// is stored). After the commit, deltas and counters are added to this replica's shared
    /// state and reach Redis with the next flush (retried while Redis is down, so an
    /// acknowledged reward is also learned from; a replica killed before its flush is
    /// repaired by ``LearningReconciler``).
    public func rewards(_ items: [Item]) async throws -> [Result<Outcome, any Error>] {
        var results = [Result<Outcome, any Error>?](repeating: nil, count: items.count)
        var parsed: [(index: Int, id: UUID)] = []
        for (i, item) in items.enumerated() {
            do throws(ServiceError) {
                parsed.append((i, try Self.validate(item).id))
            } catch {
                results[i] = .failure(error)
            }
        }
        let decisions = try await decisionLog.decisions(ids: parsed.map(\.id))
        var ready: [(index: Int, reward: Reward, delta: [Double]?, primary: Bool)] = []
        for p in parsed {
            guard let decision = decisions[p.id] else {
                results[p.index] = .failure(ServiceError.unknownDecision(id: items[p.index].decisionID))
                continue
            }
            do {
                let entry = try await catalog.entry(decision.experiment)
                let metric = try Self.declaredMetric(items[p.index], of: entry.experiment)
                let learning = try await learning(for: decision, entry: entry, metric: metric, reward: items[p.index].value)
                let reward = Reward(for: decision, metric: metric.name, value: items[p.index].value, learned: learning.learned,
                                    policyTime: learning.learned ? learning.time : nil)
                ready.append((p.index, reward, learning.delta, metric.primary))
            } catch let error as ServiceError {
                results[p.index] = .failure(error)
            }
        }
        let written = await groupCommit.record(ready.map(\.reward))
        for (item, written) in zip(ready, written) {
            let reward = item.reward
            switch written {
            case .failure(let error):
                results[item.index] = .failure(error)
            case .success((.conflict(let existing), _)):
                results[item.index] = .failure(ServiceError.rewardConflict(decisionID: items[item.index].decisionID, metric: reward.metric,
                                                                           existing: existing, sent: reward.value))
            case .success((.duplicate, _)):
                results[item.index] = .success(Outcome(status: .duplicate, metric: reward.metric, learned: false))
            case .success((.recorded, let commit)):
                // Declared metrics only: the label values are bounded by the experiment's definition.
                Counter(label: MetricNames.rewards, dimensions: [("experiment", reward.experiment), ("metric", reward.metric)]).increment()
                if item.primary {
                    cache.count(experiment: reward.experiment, arm: reward.armIndex, commit: commit, rewards: 1, rewardSum: reward.value)
                }
                if let delta = item.delta { cache.add(experiment: reward.experiment, commit: commit, delta: delta) }
                results[item.index] = .success(Outcome(status: .recorded, metric: reward.metric, learned: reward.learned))
            }
        }
        return results.map { $0 ?? .failure(ServiceError.overloaded("this reward was not handled; retry it")) }
    }

    /// Learns from default rewards just stored (by transaction `commit`, with the policy
    /// times the database gave them) for decisions whose window ended.
    public func learnDefaults(_ defaulted: [DefaultedDecision], value: Double) async {
        for item in defaulted {
            let decision = item.decision
            do {
                cache.count(experiment: decision.experiment, arm: decision.armIndex, commit: item.commit, rewards: 1, rewardSum: value)
                guard item.learned else { continue }
                let entry = try await catalog.entry(decision.experiment)
                let learning = try await learning(for: decision, entry: entry, metric: entry.experiment.primaryMetric, reward: value,
                                                  windowEnded: true, time: item.policyTime)
                if let delta = learning.delta { cache.add(experiment: decision.experiment, commit: item.commit, delta: delta) }
            } catch {
                logger.error("a default reward was stored but could not be learned", metadata: ["decision_id": "\(decision.id)", "error": "\(error)"])
            }
        }
    }

    static func validate(_ item: Item) throws(ServiceError) -> (id: UUID, Void) {
        guard let id = UUID(uuidString: item.decisionID) else {
            throw .invalidField(path: "decision_id", reason: "must be a UUID; got '\(item.decisionID)'")
        }
        if let metric = item.metric, !ExperimentSpec.isValidName(metric) {
            throw .invalidField(path: "metric", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(metric)'")
        }
        guard isInRange(item.value) else { throw .invalidField(path: "reward", reason: "must be \(rangeText); got \(item.value)") }
        return (id, ())
    }

    /// The metric a reward names (the experiment's primary metric when it names none),
    /// checked against the experiment's declared metrics and the metric's kind.
    static func declaredMetric(_ item: Item, of experiment: Experiment) throws(ServiceError) -> Metric {
        guard let name = item.metric else {
            let primary = experiment.primaryMetric
            if let refusal = primary.refusal(of: item.value) { throw .invalidField(path: "reward", reason: refusal) }
            return primary
        }
        guard let metric = experiment.metrics.first(where: { $0.name == name }) else {
            throw .undeclaredMetric(experiment: experiment.key, metric: name, declared: experiment.metrics.map(\.name))
        }
        if let refusal = metric.refusal(of: item.value) { throw .invalidField(path: "reward", reason: refusal) }
        return metric
    }

    /// Whether the policy learns from this reward, and its additive update if so (which
    /// also validates the reward through the plugin). Nothing is learned from guardrail
    /// metrics, after the experiment's reward window, once it is stopped (or archived or
    /// deleted), or from decisions the policy did not make (the control arm while paused).
    /// `time` is the policy time to use (seconds since the experiment's creation; now by default).
    func learning(for decision: Decision, entry: ExperimentCatalog.Entry, metric: Metric, reward: Double, windowEnded: Bool = false,
                  time: Double? = nil) async throws -> (delta: [Double]?, learned: Bool, time: Double) {
        guard metric.primary else { return (nil, false, 0) }
        let experiment = entry.experiment
        let policy = entry.policy
        guard [.running, .paused, .draft].contains(experiment.status), decision.policy == policy.plugin.id else { return (nil, false, 0) }
        if !windowEnded, let window = experiment.rewardWindowSeconds,
           Date().timeIntervalSince(DecisionID.timestamp(of: decision.id)) > Double(window) {
            return (nil, false, 0)
        }
        let time = time ?? Date().timeIntervalSince(experiment.createdAt)
        guard policy.stateLength > 0 else { return (nil, true, time) }
        let context = try ContextVector.make(decision.context, features: experiment.contextFeatures)
        let current = try await cache.statistics(experiment: decision.experiment, length: policy.stateLength)
        do {
            let delta = try policy.update(state: current, context: context, arm: decision.armIndex, reward: reward,
                                          propensity: decision.propensity, time: time)
            return (delta, true, time)
        } catch {
            throw error.code == PluginReportedError.invalidArgument
                ? ServiceError.policyRefused(policy: policy.plugin.id, message: error.message)
                : ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
    }
}
