import PluginSupport

/// The body of `PATCH /v1/experiments/{key}`: a change to a running experiment. Every
/// field is optional; a change that alters anything starts a new phase.
///
/// - `arms`: arms to change or add. An entry naming an existing arm sets its `weight`
///   and/or `retired` (a retired arm gets no new units; the control cannot retire); an
///   entry with a new name adds the arm (with its `weight`, 1 by default, `backend` and
///   `value`; an existing arm's backend and value cannot change).
///   Arms not named keep their settings.
/// - `policy`: `{"config": {...}}`, the policy's new config (same policy and version).
/// - `metrics`: the new list of metrics; the primary metric stays the same.
/// - `analysis`: `sequential` or `fixed_horizon`.
public struct ExperimentChange: Codable, Sendable {
    public struct ArmChange: Codable, Sendable {
        public var name: String
        public var weight: Double?
        public var retired: Bool?
        public var backend: String?
        public var value: JSONValue?

        public init(name: String, weight: Double? = nil, retired: Bool? = nil, backend: String? = nil, value: JSONValue? = nil) {
            (self.name, self.weight, self.retired, self.backend, self.value) = (name, weight, retired, backend, value)
        }
    }

    public struct PolicyChange: Codable, Sendable {
        public var config: JSONValue?
        public var name: String?
        public var version: String?
    }

    public var arms: [ArmChange]?
    public var policy: PolicyChange?
    public var metrics: [Metric]?
    public var analysis: Analysis?

    public init(arms: [ArmChange]? = nil, metrics: [Metric]? = nil, analysis: Analysis? = nil) {
        (self.arms, self.metrics, self.analysis) = (arms, metrics, analysis)
    }

    /// What a change alters, as recorded with its phase.
    public enum Kind: String, Sendable, CaseIterable {
        case weights, arms, policy, metrics, analysis
    }

    /// The experiment after the change and what changed (empty: nothing did); throws for an
    /// invalid change, naming the field.
    public func applied(to current: Experiment) throws(ServiceError) -> (Experiment, [Kind]) {
        guard [.draft, .running, .paused].contains(current.status) else {
            throw .experimentReadOnly(key: current.key, status: current.status.rawValue)
        }
        var next = current
        var kinds: [Kind] = []
        for (i, change) in (arms ?? []).enumerated() {
            let path = "arms[\(i)]"
            if let weight = change.weight, !(weight.isFinite && weight >= 0 && weight <= ExperimentSpec.maxWeight) {
                throw .invalidField(path: "\(path).weight", reason: "must be a finite number >= 0 and <= \(Int(ExperimentSpec.maxWeight)); got \(weight)")
            }
            if let index = next.arms.firstIndex(where: { $0.name == change.name }) {
                if let backend = change.backend, backend != next.arms[index].backend {
                    throw .invalidField(path: "\(path).backend", reason: "cannot change on an existing arm; add an arm with the new backend instead")
                }
                if let value = change.value, value != next.arms[index].value {
                    throw .invalidField(path: "\(path).value", reason: "cannot change on an existing arm (its decisions meant the old value); add an arm with the new value instead")
                }
                if let weight = change.weight, weight != next.arms[index].weight {
                    next.arms[index].weight = weight
                    kinds.append(.weights)
                }
                if let retired = change.retired, retired != next.arms[index].retired {
                    if retired && change.name == next.control {
                        throw .invalidField(path: "\(path).retired", reason: "the control arm '\(change.name)' cannot retire")
                    }
                    next.arms[index].retired = retired
                    kinds.append(.arms)
                }
            } else {
                guard ExperimentSpec.isValidName(change.name) else {
                    throw .invalidField(path: "\(path).name", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(change.name)'")
                }
                if let backend = change.backend, !ExperimentSpec.isValidKey(backend) {
                    throw .invalidField(path: "\(path).backend", reason: "must name a model backend ([a-z0-9][a-z0-9_-]{0,62}); got '\(backend)'")
                }
                guard change.retired != true else { throw .invalidField(path: "\(path).retired", reason: "a new arm cannot start retired") }
                try ExperimentSpec.validate(value: change.value, path: "\(path).value")
                guard next.arms.count < 256 else { throw .invalidField(path: "arms", reason: "an experiment has at most 256 arms") }
                var arm = Experiment.Arm(name: change.name, weight: change.weight ?? 1, backend: change.backend, value: change.value)
                arm.retired = false
                next.arms.append(arm)
                kinds.append(.arms)
            }
        }
        guard next.arms.contains(where: { !$0.retired && $0.weight > 0 }) else {
            throw .invalidField(path: "arms", reason: "must leave at least one arm that is not retired with a positive weight")
        }
        if let policy {
            if let name = policy.name, name != current.policy?.name {
                throw .invalidField(path: "policy.name", reason: "cannot change ('\(current.policy?.name ?? "?")'); create a new experiment for another policy")
            }
            if let version = policy.version, version != current.policy?.version {
                throw .invalidField(path: "policy.version", reason: "cannot change ('\(current.policy?.version ?? "?")')")
            }
            try ExperimentSpec.validate(config: policy.config, path: "policy.config")
            if let config = policy.config, config != current.policy?.config {
                next.policy?.config = config
                kinds.append(.policy)
            }
        }
        if let metrics {
            let declared = try ExperimentSpec.validatedMetrics(metrics)
            let primary = declared.first(where: \.primary)
            guard primary?.name == current.primaryMetric.name, primary?.kind == current.primaryMetric.kind else {
                throw .invalidField(path: "metrics", reason: "must keep the primary metric '\(current.primaryMetric.name)' (\(current.primaryMetric.kind.rawValue)): the policy learns it; create a new experiment to learn another")
            }
            if Set(declared.map { "\($0)" }) != Set(current.metrics.map { "\($0)" }) {
                next.metrics = declared
                kinds.append(.metrics)
            }
        }
        if let analysis, analysis != current.analysis {
            next.analysis = analysis
            kinds.append(.analysis)
        }
        var seen = Set<Kind>()
        kinds = kinds.filter { seen.insert($0).inserted }
        guard !kinds.isEmpty else { return (current, []) }
        next.phase = current.phase + 1
        if next.effectiveWeights != current.effectiveWeights {
            guard (current.weightHistory?.count ?? 1) < SplitHistory.maxChanges else {
                throw .invalidField(path: "arms", reason: "the weights of '\(current.key)' changed \(SplitHistory.maxChanges - 1) times already, the most an experiment keeps; start a new experiment")
            }
            next.weightHistory = (current.weightHistory ?? [current.effectiveWeights]) + [next.effectiveWeights]
        }
        return (next, kinds)
    }
}
