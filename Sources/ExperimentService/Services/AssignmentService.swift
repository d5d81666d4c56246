import Metrics
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
    let decisionLog: any DecisionLog
    let cache: StatisticsCache

    /// How long a unit keeps its arm under an adaptive policy when the experiment sets no
    /// `sticky_ttl_seconds`: 30 days.
    public static let defaultStickySeconds = 2_592_000

    public init(catalog: ExperimentCatalog, decisionLog: any DecisionLog, cache: StatisticsCache) {
        self.catalog = catalog
        self.decisionLog = decisionLog
        self.cache = cache
    }

    /// Assigns `unit` in experiment `key`. Returns after the decision is committed to
    /// PostgreSQL; the statistics come from this replica's view of Redis, and the count goes
    /// out with the next flush. Throws if PostgreSQL or Redis is unavailable.
    ///
    /// An adaptive experiment's unit is claimed in Redis by the group commit, for the whole
    /// batch at once, just before the batch is written: one queue and one wait per request.
    public func assign(experiment key: String, unit: String, context: [String: Double]?) async throws -> Assignment {
        try await assign(experiment: key, unit: unit, context: context, sticky: true, claimTiming: { _ in .withCommit }) { _ in () }.0
    }

    /// What was chosen for a unit, before the decision is recorded.
    public struct Chosen: Sendable {
        public let entry: ExperimentCatalog.Entry
        public let arm: Int
        /// The context as the policy saw it.
        public let context: [Double]
        public let seed: UInt64
        public let unit: String
    }

    /// When an adaptive experiment's unit is claimed in Redis, for a caller with work to do
    /// between choosing the arm and recording the decision (`beforeRecording`).
    public enum ClaimTiming: Sendable {
        /// First, in a round trip of its own: the work sees the arm the unit holds.
        case first
        /// With the group commit: the work does not depend on the arm (an ensemble's
        /// models), and the arm recorded is the one the unit holds.
        case withCommit
        /// With the group commit, the work done for the policy's choice; if the unit turns
        /// out to hold another arm, the work is done again for that arm once the decision is
        /// recorded. For work that costs less than a Redis round trip (an in-process model).
        case withCommitRedoingIfHeld
    }

    /// Assigns like ``assign(experiment:unit:context:)`` and runs `beforeRecording` once the
    /// arm is chosen: the decision is recorded only if it succeeds (a prediction whose
    /// inputs do not fit the model leaves no decision behind). `claimTiming`, asked with
    /// the policy's choice, says when an adaptive experiment's unit is claimed; with
    /// ``ClaimTiming/withCommitRedoingIfHeld``, a redone `beforeRecording` that fails leaves
    /// its decision recorded. Without `sticky` (a unit made up for one request, that never
    /// returns) nothing is claimed in Redis.
    public func assign<Extra: Sendable>(experiment key: String, unit: String, context: [String: Double]?, sticky: Bool,
                                        claimTiming: (Chosen) async throws -> ClaimTiming,
                                        beforeRecording: (Chosen) async throws -> Extra) async throws -> (Assignment, Extra) {
        try Self.validate(unit: unit)
        let entry = try await catalog.entry(key)
        let experiment = entry.experiment
        let vector = try ContextVector.make(context, features: experiment.contextFeatures)
        try await cache.checkAvailable()
        let seed = RandomWords.next()
        let choice: Choice, label: String
        var claim: StickyClaim?, timing = ClaimTiming.first
        switch experiment.status {
        case .draft:
            throw ServiceError.notStarted(key: key)
        case .paused, .stopped:
            // Paused and stopped experiments show everyone the control arm; the policy is not asked.
            choice = .certain(experiment.controlIndex, arms: experiment.arms.count)
            label = "control (\(experiment.status.rawValue))"
        case .running:
            (choice, claim, timing) = try await decide(entry, context: vector, unit: unit, seed: seed, sticky: sticky, claimTiming: claimTiming)
            label = entry.policy.plugin.id
        }
        var extra = try await beforeRecording(Chosen(entry: entry, arm: choice.arm, context: vector, seed: seed, unit: unit))
        var decision = Decision(
            id: DecisionID.make(), experiment: key, armIndex: choice.arm, unit: unit, propensity: choice.propensity,
            context: context, policy: label, seed: seed, probabilities: choice.probabilities
        )
        let commit: CommitID
        if let claim {
            (decision, commit) = try await decisionLog.record(decision, sticky: claim)
        } else {
            commit = try await decisionLog.record(decision)
        }
        let arm = decision.armIndex
        cache.count(experiment: key, arm: arm, commit: commit, assignments: 1)
        entry.assignmentCounters[arm].increment()
        if case .withCommitRedoingIfHeld = timing, arm != choice.arm {
            extra = try await beforeRecording(Chosen(entry: entry, arm: arm, context: vector, seed: seed, unit: unit))
        }
        return (Assignment(experiment: key, variant: experiment.arms[arm].name, decisionID: decision.id, propensity: decision.propensity), extra)
    }

    /// Refuses a unit PostgreSQL could not store (a NUL character, which `text` cannot hold,
    /// would fail the whole group-commit batch) or that is empty or too long.
    static func validate(unit: String) throws(ServiceError) {
        guard !unit.isEmpty, unit.utf8.count <= 512 else {
            throw .invalidField(path: "unit", reason: "must be a non-empty string of at most 512 bytes")
        }
        guard !unit.utf8.contains(0) else {
            throw .invalidField(path: "unit", reason: "must not contain the NUL character (\\u0000)")
        }
    }

    /// The unit's arm: a fixed split decides from the unit's hash alone (sticky with no
    /// I/O); an adaptive policy keeps a unit on its first arm while its stickiness lasts
    /// (a Redis key per experiment and unit, with the experiment's TTL), so a returning
    /// user keeps their variant while the policy learns. Claimed with the group commit, the
    /// policy's choice comes back with the claim to make; claimed first, the choice is the
    /// arm the unit holds.
    func decide(_ entry: ExperimentCatalog.Entry, context: [Double], unit: String, seed: UInt64, sticky: Bool,
                claimTiming: (Chosen) async throws -> ClaimTiming) async throws -> (Choice, StickyClaim?, ClaimTiming) {
        let key = entry.experiment.key
        let arms = entry.experiment.arms.count
        let statistics = try await cache.statistics(experiment: key, length: entry.policy.stateLength)
        let choice = try choose(entry, state: statistics, context: context, unit: unit, seed: seed)
        // A fixed split claims nothing: its choice is final (`.first`: nothing to redo); nor does a one-off unit.
        guard sticky, entry.policy.plugin.name != ExperimentCatalog.defaultPolicy else { return (choice, nil, .first) }
        let ttl = entry.experiment.stickyTTLSeconds ?? Self.defaultStickySeconds
        let timing = try await claimTiming(Chosen(entry: entry, arm: choice.arm, context: context, seed: seed, unit: unit))
        if case .first = timing {
            // One round trip: keep the unit's earlier arm if it has one, else stick it to this choice.
            let held = try await cache.store.stick(experiment: key, unit: unit, arm: choice.arm, propensity: choice.propensity, ttl: ttl)
            guard let held, held.arm < arms else { return (choice, nil, timing) }
            // A returning unit: its arm is certain; the propensity logged is the original one.
            return (Choice(arm: held.arm, propensity: held.propensity, probabilities: Decision.certain(held.arm, arms: arms)), nil, timing)
        }
        return (choice, StickyClaim(store: cache.store.stickiness, ttlSeconds: ttl, arms: arms), timing)
    }

    /// An arm, its probability, and every arm's probability.
    struct Choice {
        var arm: Int
        var propensity: Double
        var probabilities: [Double]

        static func certain(_ arm: Int, arms: Int) -> Choice {
            Choice(arm: arm, propensity: 1, probabilities: Decision.certain(arm, arms: arms))
        }
    }

    /// Calls the plugin; for costly probabilities, reuses those computed for the same state.
    func choose(_ entry: ExperimentCatalog.Entry, state: [Double], context: [Double], unit: String, seed: UInt64) throws -> Choice {
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
            // The decision's propensity must be a probability PostgreSQL's check accepts (0, 1]:
            // a policy that picks an arm it gave no chance fails here, not the whole batch.
            let propensity = probabilities[choice.arm]
            guard propensity > 0, propensity <= 1 else {
                throw ServiceError.policyFailed(policy: policy.plugin.id, message: "chose arm \(choice.arm) with probability \(propensity)")
            }
            return Choice(arm: choice.arm, propensity: propensity, probabilities: probabilities)
        } catch let error as PluginReportedError {
            Counter(label: MetricNames.pluginErrors, dimensions: [("policy", policy.plugin.id)]).increment()
            throw error.code == PluginReportedError.invalidArgument
                ? ServiceError.policyRefused(policy: policy.plugin.id, message: error.message)
                : ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
    }
}
