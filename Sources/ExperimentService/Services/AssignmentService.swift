import Foundation

/// Decides which arm a unit gets, records the decision, and counts it.
public struct AssignmentService: Sendable {
    /// The answer to an assignment request.
    public struct Assignment: Sendable, Equatable {
        public var experiment: String
        public var variant: String
        public var decisionID: UUID
        public var propensity: Double
    }

    /// The label stored with decisions made by the built-in weighted hash split.
    public static let hashSplitPolicy = "hash-split@1"

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
        if let context {
            for (name, value) in context where !value.isFinite {
                throw ServiceError.invalidField(path: "context.\(name)", reason: "must be a finite number")
            }
        }
        let entry = try await catalog.entry(key)
        let (arm, propensity) = entry.split.assign(unit: unit)
        let decision = Decision(
            id: DecisionID.make(), experiment: key, armIndex: arm, unit: unit,
            propensity: propensity, context: context, policy: Self.hashSplitPolicy
        )
        async let logged: Void = rewardLog.record(decision)
        async let counted: Void = state.recordAssignment(experiment: key, armIndex: arm)
        _ = try await (logged, counted)
        return Assignment(
            experiment: key, variant: entry.experiment.arms[arm].name,
            decisionID: decision.id, propensity: propensity
        )
    }
}
