import ExperimentService
import Foundation

/// The decision log in memory: the twin of `PostgresDecisionLog`, with the same reads over
/// an ``InMemoryRecord`` that its ``InMemoryBatchWriter`` fills.
public final class InMemoryDecisionLog: DecisionLog {
    let record = InMemoryRecord()
    let experiments: any ExperimentRepository

    /// - Parameter experiments: where default rewards find their experiment's creation time.
    public init(experiments: any ExperimentRepository) {
        self.experiments = experiments
    }

    public func makeBatchWriter() -> any BatchWriter { InMemoryBatchWriter(record: record) }

    public func decisions(ids: [UUID]) async throws -> [UUID: Decision] {
        record.read { r in ids.reduce(into: [:]) { found, id in found[id] = r.decisionsByID[id]?.decision } }
    }

    public func latestDecision(experiment: String, unit: String) async throws -> UUID? {
        record.read { r in r.decisions.last { $0.decision.experiment == experiment && $0.decision.unit == unit }?.decision.id }
    }

    public func recordDefaultRewards(experiment: String, windowSeconds: Int, value: Double, policy: String,
                                     limit: Int) async throws -> [DefaultedDecision] {
        guard let found = try await experiments.find(key: experiment) else { return [] }
        let created = found.createdAt, metric = found.primaryMetric.name
        let now = Date()
        let due = record.read { r in
            r.decisions.filter { d in
                let age = now.timeIntervalSince(d.at)
                return d.decision.experiment == experiment && age > Double(windowSeconds) && age <= Double(windowSeconds) + 86_400
                    && r.rewardsByKey[.init(decision: d.decision.id, metric: metric)] == nil
            }.prefix(limit).map(\.decision)
        }
        return record.transaction { t -> [DefaultedDecision] in
            due.compactMap { d -> DefaultedDecision? in
                guard t.reward(.init(decision: d.id, metric: metric)) == nil else { return nil }  // another sweep won
                let time = now.timeIntervalSince(created)
                let reward = Reward(for: d, metric: metric, value: value, learned: d.policy == policy, policyTime: time)
                do { try t.insert(reward) } catch { return nil }
                return DefaultedDecision(decision: d, learned: reward.learned, policyTime: time, commit: t.commit)
            }
        }
    }

    public func replay<Result: Sendable>(experiment: String, armCount: Int, initial: Result,
                                         fold: @escaping @Sendable (inout Result, LearnedReward) throws -> Void) async throws -> Replay<Result> {
        let metric = try await primaryMetric(experiment)
        let (snapshot, counters, learned) = record.read { r in
            var counters = [ArmCounters](repeating: ArmCounters(), count: armCount)
            for d in r.decisions where d.decision.experiment == experiment && counters.indices.contains(d.decision.armIndex) {
                counters[d.decision.armIndex].assignments += 1
            }
            var learned: [(reward: Reward, decision: Decision, commit: CommitID)] = []
            for stored in r.rewards where stored.reward.experiment == experiment && stored.reward.metric == metric {
                let arm = stored.reward.armIndex
                if counters.indices.contains(arm) {
                    counters[arm].rewards += 1
                    counters[arm].rewardSum += stored.reward.value
                }
                if stored.reward.learned, let d = r.decisionsByID[stored.reward.decisionID]?.decision {
                    learned.append((stored.reward, d, stored.commit))
                }
            }
            learned.sort { ($0.commit, $0.reward.decisionID.uuidString) < ($1.commit, $1.reward.decisionID.uuidString) }
            return (r.snapshot, counters, learned)
        }
        var result = initial
        for item in learned {
            try fold(&result, LearnedReward(arm: item.decision.armIndex, context: item.decision.context, propensity: item.decision.propensity,
                                            value: item.reward.value, policyTime: item.reward.policyTime ?? 0))
        }
        return Replay(snapshot: snapshot, result: result, learnedRewards: learned.count, counters: counters)
    }

    public func learningCounts(experiment: String, settled: Duration) async throws -> LearningCounts {
        let metric = try await primaryMetric(experiment)
        let cutoff = Date().addingTimeInterval(-Double(settled.components.seconds) - Double(settled.components.attoseconds) / 1e18)
        return record.read { r in
            let decisions = r.decisions.filter { $0.decision.experiment == experiment }
            let rewards = r.rewards.filter { $0.reward.experiment == experiment && $0.reward.metric == metric }
            return LearningCounts(decisions: Int64(decisions.count), settledDecisions: Int64(decisions.filter { $0.at < cutoff }.count),
                                  rewards: Int64(rewards.count), settledRewards: Int64(rewards.filter { $0.at < cutoff }.count))
        }
    }

    public func ping() async throws {}

    /// The metric the experiment's policy learns (its counters count).
    private func primaryMetric(_ experiment: String) async throws -> String {
        try await experiments.find(key: experiment)?.primaryMetric.name ?? Metric.defaultPrimary.name
    }
}
