import Metrics
import Foundation
import PluginHost
import PluginSupport

/// Decides which arm a unit gets through the experiment's policy plugin, records the
/// decision, and counts it, in two phases: ``choose(experiment:unit:context:sticky:)``
/// (the policy, on this replica's statistics) and ``record(_:)`` (the group commit, which
/// also claims an adaptive experiment's unit). A prediction composes the two around its
/// inference (``PredictionService``).
public struct AssignmentService: Sendable {
    /// The answer to an assignment request.
    public struct Assignment: Sendable, Equatable {
        public var experiment: String
        public var variant: String
        /// The variant's index among the experiment's arms.
        public var armIndex: Int
        public var decisionID: UUID
        public var propensity: Double
    }

    let catalog: ExperimentCatalog
    let groupCommit: GroupCommit
    let units: any StickyUnits
    let cache: StatisticsCache

    /// How long a unit keeps its arm under an adaptive policy when the experiment sets no
    /// `sticky_ttl_seconds`: 30 days.
    public static let defaultStickySeconds = 2_592_000

    public init(catalog: ExperimentCatalog, groupCommit: GroupCommit, units: any StickyUnits, cache: StatisticsCache) {
        self.catalog = catalog
        self.groupCommit = groupCommit
        self.units = units
        self.cache = cache
    }

    /// Assigns `unit` in experiment `key`: ``choose(experiment:unit:context:sticky:)``, then
    /// ``record(_:)``. Returns after the decision is committed to PostgreSQL; an adaptive
    /// experiment's unit is claimed with the group commit, for the whole batch at once.
    public func assign(experiment key: String, unit: String, context: [String: Double]?) async throws -> Assignment {
        try await record(try await choose(experiment: key, unit: unit, context: context, sticky: true))
    }

    /// An arm chosen for a unit, not yet recorded (the first phase of an assignment).
    public struct Choice: Sendable {
        public let entry: ExperimentCatalog.Entry
        public let unit: String
        /// The context as sent, and as the policy saw it.
        public let context: [String: Double]?
        public let vector: [Double]
        public let seed: UInt64
        /// `name@version` of the policy, or why it was not asked.
        public let policy: String
        public private(set) var arm: Int
        public private(set) var propensity: Double
        public private(set) var probabilities: [Double]
        /// The unit's claim, made when the decision is recorded; nil when the arm is final
        /// (a fixed split, a paused experiment, a one-off unit, or a claim made already).
        public private(set) var claim: StickyClaim?

        /// Takes the arm a returning unit holds (``StickyRule``); the claim is made.
        mutating func settle(held: HeldArm?) {
            guard let claim else { return }
            if let kept = StickyRule.kept(held, arms: claim.arms) { (arm, propensity, probabilities) = kept }
            self.claim = nil
        }

        /// The decision this choice records (a new id unless one is given).
        func decision(id: UUID = DecisionID.make()) -> Decision {
            Decision(id: id, experiment: entry.experiment.key, armIndex: arm, unit: unit, propensity: propensity,
                     context: context, policy: policy, seed: seed, probabilities: probabilities, phase: entry.experiment.phase)
        }
    }

    /// First phase: the unit's arm by the experiment's policy, on this replica's statistics
    /// (no other I/O). A policy whose choice depends on the unit alone (capability
    /// `unit_deterministic`: a fixed split) is final; an adaptive policy's choice carries
    /// the unit's claim (unless `sticky` is false: a unit made up for one request, that
    /// never returns). Paused and stopped experiments show everyone the control arm.
    public func choose(experiment key: String, unit: String, context: [String: Double]?, sticky: Bool) async throws -> Choice {
        try Self.validate(unit: unit)
        let entry = try await catalog.entry(key)
        let experiment = entry.experiment
        let vector = try ContextVector.make(context, features: experiment.contextFeatures)
        try await cache.checkAvailable()
        let seed = RandomWords.next()
        let arms = experiment.arms.count
        switch experiment.status {
        case .draft:
            throw ServiceError.notStarted(key: key)
        case .deleted:
            throw ServiceError.experimentDeleted(key: key)
        case .paused, .stopped, .archived:
            return Choice(entry: entry, unit: unit, context: context, vector: vector, seed: seed,
                          policy: "control (\(experiment.status.rawValue))", arm: experiment.controlIndex, propensity: 1,
                          probabilities: StickyRule.certain(experiment.controlIndex, arms: arms), claim: nil)
        case .running:
            let statistics = try await cache.statistics(experiment: key, length: entry.policy.stateLength)
            let unitHash = StableHash.unitHash(salt: experiment.salt, unit: unit)
            var (arm, propensity, probabilities) = try policyChoice(entry, state: statistics, context: vector, unitHash: unitHash, seed: seed)
            let deterministic = entry.policy.plugin.capabilities.contains(.unitDeterministic)
            if deterministic, let history = entry.splitHistory {
                // A fixed split whose weights changed: the unit's first arm, carried through each change.
                arm = history.arm(initial: arm, unitHash: unitHash)
                probabilities = history.shares
                propensity = probabilities[arm]
            } else if !deterministic, experiment.arms[arm].retired {
                (arm, propensity, probabilities) = try Self.withoutRetired(experiment, probabilities: probabilities, seed: seed)
            }
            let claims = sticky && !deterministic
            let ttl = experiment.stickyTTLSeconds ?? Self.defaultStickySeconds
            return Choice(entry: entry, unit: unit, context: context, vector: vector, seed: seed, policy: entry.policy.plugin.id,
                          arm: arm, propensity: propensity, probabilities: probabilities,
                          claim: claims ? StickyClaim(ttlSeconds: ttl, arms: arms) : nil)
        }
    }

    /// An adaptive policy chose a retired arm: draws again among the arms still running, in
    /// proportion to the policy's probabilities. Over both draws each running arm is chosen
    /// with its probability renormalised over the running arms, which is the logged propensity.
    static func withoutRetired(_ experiment: Experiment, probabilities: [Double],
                               seed: UInt64) throws -> (arm: Int, propensity: Double, probabilities: [Double]) {
        let kept = probabilities.indices.map { experiment.arms.indices.contains($0) && !experiment.arms[$0].retired ? probabilities[$0] : 0 }
        let total = kept.reduce(0, +)
        guard total > 0 else {
            throw ServiceError.policyFailed(policy: experiment.policyID, message: "gave no probability to any arm that is not retired")
        }
        let shares = kept.map { $0 / total }
        var rng = SplitMix64(seed: seed ^ 0x7e71_12ed)
        var target = rng.nextUnit(), arm = shares.lastIndex { $0 > 0 } ?? 0
        for (i, p) in shares.enumerated() where p > 0 {
            target -= p
            if target < 0 { arm = i; break }
        }
        return (arm, shares[arm], shares)
    }

    /// Claims the unit now, in a round trip of its own, so the choice is final before it is
    /// recorded: for work that must see the arm a returning unit holds (a model behind the
    /// network, called once, for the right arm).
    public func claimNow(_ choice: inout Choice) async throws {
        guard let claim = choice.claim else { return }
        let held = try await units.claim(experiment: choice.entry.experiment.key, unit: choice.unit, arm: choice.arm,
                                         propensity: choice.propensity, ttlSeconds: claim.ttlSeconds)
        choice.settle(held: held)
    }

    /// Second phase: records the choice through the group commit (which claims a pending
    /// claim's unit first) and counts it. The assignment is the decision as recorded: a
    /// returning unit's holds its first arm. A prediction passes the classes its chosen
    /// arm's model output; they are dropped if the unit holds another arm. A stream entry
    /// passes the decision id it derives (a second record of it fails as a duplicate key).
    public func record(_ choice: Choice, outputClasses: [Int64]? = nil, decisionID: UUID? = nil) async throws -> Assignment {
        var made = decisionID.map { choice.decision(id: $0) } ?? choice.decision()
        made.outputClasses = outputClasses
        let (decision, commit) = try await groupCommit.record(made, claim: choice.claim)
        let key = decision.experiment, arm = decision.armIndex
        cache.count(experiment: key, arm: arm, commit: commit, assignments: 1)
        choice.entry.assignmentCounters[arm].increment()
        return Assignment(experiment: key, variant: choice.entry.experiment.arms[arm].name, armIndex: arm, decisionID: decision.id,
                          propensity: decision.propensity)
    }

    /// Queues the output classes of a prediction whose decision is stored already (its unit
    /// held another arm than the one whose model inferred first); see ``GroupCommit/post(_:)``.
    public func post(_ classes: DecisionClasses) {
        groupCommit.post(classes)
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

    /// Calls the plugin; for costly probabilities, reuses those computed for the same state.
    func policyChoice(_ entry: ExperimentCatalog.Entry, state: [Double], context: [Double], unitHash: UInt64,
                      seed: UInt64) throws -> (arm: Int, propensity: Double, probabilities: [Double]) {
        let policy = entry.policy
        let experiment = entry.experiment
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
            return (choice.arm, propensity, probabilities)
        } catch let error as PluginReportedError {
            Counter(label: MetricNames.pluginErrors, dimensions: [("policy", policy.plugin.id)]).increment()
            throw error.code == PluginReportedError.invalidArgument
                ? ServiceError.policyRefused(policy: policy.plugin.id, message: error.message)
                : ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
    }
}
