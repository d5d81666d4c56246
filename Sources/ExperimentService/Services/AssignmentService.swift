import Foundation
import PluginHost
import PolicyABI

/// Decides which arm a unit gets through the experiment's policy plugin, records the
/// decision, and counts it.
public struct AssignmentService: Sendable {
    /// The answer to an assignment request.
    public struct Assignment: Sendable, Equatable {
        public var experiment: String
        public var variant: String
        public var decisionID: UUID
        public var propensity: Double
    }

    let catalog: ExperimentCatalog
    let rewardLog: any RewardLog
    let state: any StateStore

    public init(catalog: ExperimentCatalog, rewardLog: any RewardLog, state: any StateStore) {
        self.catalog = catalog
        self.rewardLog = rewardLog
        self.state = state
    }

    /// Assigns `unit` in experiment `key`. Returns after the decision is committed to
    /// PostgreSQL and counted in Redis; throws if either store is unavailable.
    public func assign(experiment key: String, unit: String, context: [String: Double]?) async throws -> Assignment {
        guard !unit.isEmpty, unit.utf8.count <= 512 else {
            throw ServiceError.invalidField(path: "unit", reason: "must be a non-empty string of at most 512 bytes")
        }
        let entry = try await catalog.entry(key)
        let experiment = entry.experiment
        let vector = try ContextVector.make(context, features: experiment.contextFeatures)
        let statistics = try await currentState(entry)
        var rng = SystemRandomNumberGenerator()
        let seed: UInt64 = rng.next()
        let (arm, propensity) = try choose(entry, state: statistics, context: vector, unit: unit, seed: seed)
        let decision = Decision(
            id: DecisionID.make(), experiment: key, armIndex: arm, unit: unit, propensity: propensity,
            context: context, policy: entry.policy.plugin.id, seed: seed
        )
        async let logged: Void = rewardLog.record(decision)
        async let counted: Void = state.recordAssignment(experiment: key, armIndex: arm)
        _ = try await (logged, counted)
        return Assignment(experiment: key, variant: experiment.arms[arm].name, decisionID: decision.id, propensity: propensity)
    }

    /// The policy statistics from Redis (the prior, written now, if Redis has none).
    func currentState(_ entry: ExperimentCatalog.Entry) async throws -> [Double] {
        let length = entry.policy.stateLength
        guard length > 0 else { return [] }
        let key = entry.experiment.key
        if let stored = try await state.policyState(experiment: key, length: length) { return stored }
        let prior = try entry.policy.initialState()
        try await state.initializePolicyState(experiment: key, prior: prior)
        return try await state.policyState(experiment: key, length: length) ?? prior
    }

    /// Calls the plugin; for costly probabilities, reuses those computed for the same state.
    func choose(_ entry: ExperimentCatalog.Entry, state: [Double], context: [Double], unit: String, seed: UInt64) throws -> (Int, Double) {
        let policy = entry.policy
        let experiment = entry.experiment
        let unitHash = StableHash.unitHash(salt: experiment.salt, unit: unit)
        let time = Date().timeIntervalSince(experiment.createdAt)
        let costly = policy.plugin.capabilities.contains(.costlyProbabilities)
        let fingerprint = state.hashValue
        let cached = costly ? entry.probabilities.probabilities(for: fingerprint) : nil
        do {
            let choice = try policy.choose(state: state, context: context, unitHash: unitHash, seed: seed, time: time,
                                           probabilities: cached == nil)
            guard let probabilities = cached ?? choice.probabilities else { throw ServiceError.policyFailed(policy: policy.plugin.id, message: "no probabilities") }
            if costly && cached == nil { entry.probabilities.store(probabilities, for: fingerprint) }
            // A cached Monte Carlo estimate is smoothed, so every arm keeps positive mass.
            return (choice.arm, probabilities[choice.arm])
        } catch let error as PluginReportedError {
            throw error.code == PluginReportedError.invalidArgument
                ? ServiceError.policyRefused(policy: policy.plugin.id, message: error.message)
                : ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
    }
}
