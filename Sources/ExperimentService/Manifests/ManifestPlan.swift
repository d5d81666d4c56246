import PluginSupport

/// What applying an experiment's manifest does to the experiment a service has, as
/// `kubectl apply` would: create it when missing; otherwise change it through the same
/// phases as `PATCH /v1/experiments/{key}` (weights, arms added or retired, the policy's
/// config, metrics, analysis) and move its lifecycle to the declared status. What a
/// running experiment cannot change (its control, salt, policy, context features, TTLs) is
/// an error naming the field: an experiment is never silently recreated.
public struct ManifestPlan: Sendable {
    public enum Action: Sendable {
        /// Create, then retire the arms the file marks retired (creation takes none), then
        /// move to the declared status.
        case create(ExperimentSpec, retire: ExperimentChange?, then: ExperimentCatalog.LifecycleAction?)
        case update(ExperimentChange?, then: ExperimentCatalog.LifecycleAction?)
        case unchanged
    }

    public var action: Action
    /// Each difference, as `field: old → new`.
    public var differences: [String]

    /// The plan for `spec` against `current` (nil: the service has no such experiment).
    public static func plan(_ spec: ExperimentSpec, current: ExperimentView?) throws(ServiceError) -> ManifestPlan {
        let declared = spec.status
        guard let current else {
            var created = spec
            var then: ExperimentCatalog.LifecycleAction?
            if let status = declared, ![.running, .draft].contains(status) {
                created.status = nil
                then = transition(to: status)
            }
            let retired = created.arms.filter(\.retired).map { ExperimentChange.ArmChange(name: $0.name, retired: true) }
            for i in created.arms.indices { created.arms[i].retired = false }
            return ManifestPlan(action: .create(created, retire: retired.isEmpty ? nil : ExperimentChange(arms: retired), then: then),
                                differences: ["created"])
        }
        guard current.status != Experiment.Status.deleted.rawValue else { throw .experimentDeleted(key: spec.key) }
        var differences: [String] = []
        func immutable<T: Equatable>(_ field: String, _ old: T, _ new: T?, _ text: (T) -> String) throws(ServiceError) {
            guard let new, new != old else { return }
            throw .invalidField(path: field, reason: "cannot change on an existing experiment (\(text(old)) → \(text(new))); declare a new experiment with another key")
        }
        try immutable("control", current.control, spec.control) { $0 }
        try immutable("salt", current.salt, spec.salt) { $0 }
        try immutable("context_features", current.contextFeatures, spec.contextFeatures) { $0.joined(separator: ",") }
        try immutable("sticky_ttl_seconds", current.stickyTTLSeconds ?? 0, spec.stickyTTLSeconds) { String($0) }
        try immutable("reward_window_seconds", current.rewardWindowSeconds ?? 0, spec.rewardWindowSeconds) { String($0) }
        try immutable("default_reward", current.defaultReward ?? .nan, spec.defaultReward) { "\($0)" }
        try immutable("policy.name", current.policy?.name ?? "weighted-split", spec.policy?.name) { $0 }
        if let version = spec.policy?.version, let old = current.policy?.version, version != old {
            throw .invalidField(path: "policy.version", reason: "cannot change on an existing experiment (\(old) → \(version)); declare a new experiment with another key")
        }

        var change = ExperimentChange()
        var arms: [ExperimentChange.ArmChange] = []
        for (i, arm) in spec.arms.enumerated() {
            guard let old = current.arms.first(where: { $0.name == arm.name }) else {
                arms.append(.init(name: arm.name, weight: arm.weight, backend: arm.backend, value: arm.value))
                differences.append("arms: + \(arm.name)")
                continue
            }
            if arm.backend != old.backend {
                throw .invalidField(path: "arms[\(i)].backend", reason: "cannot change on an existing arm; declare an arm with another name")
            }
            if let value = arm.value, value != old.value {
                throw .invalidField(path: "arms[\(i)].value", reason: "cannot change on an existing arm; declare an arm with another name")
            }
            var armChange = ExperimentChange.ArmChange(name: arm.name)
            if arm.weight != old.weight {
                armChange.weight = arm.weight
                differences.append("arms[\(arm.name)].weight: \(old.weight) → \(arm.weight)")
            }
            if (old.retired ?? false) != arm.retired {
                armChange.retired = arm.retired
                differences.append("arms[\(arm.name)].retired: \(old.retired ?? false) → \(arm.retired)")
            }
            if armChange.weight != nil || armChange.retired != nil { arms.append(armChange) }
        }
        // An arm left out of the file is retired (arms are never removed: their decisions stay).
        for old in current.arms where !(old.retired ?? false) && !spec.arms.contains(where: { $0.name == old.name }) {
            arms.append(.init(name: old.name, retired: true))
            differences.append("arms[\(old.name)].retired: false → true (not in the file)")
        }
        if !arms.isEmpty { change.arms = arms }
        if let config = spec.policy?.config, config != current.policy?.config {
            change.policy = .init(config: config, name: nil, version: nil)
            differences.append("policy.config changed")
        }
        if let metrics = spec.metrics, ExperimentResults.ordered(metrics) != ExperimentResults.ordered(current.metrics) {
            change.metrics = metrics
            differences.append("metrics: \(current.metrics.map(\.name).joined(separator: ",")) → \(metrics.map(\.name).joined(separator: ","))")
        }
        if let analysis = spec.analysis, analysis != current.analysis {
            change.analysis = analysis
            differences.append("analysis: \(current.analysis.rawValue) → \(analysis.rawValue)")
        }
        var then: ExperimentCatalog.LifecycleAction?
        if let status = declared, status.rawValue != current.status {
            then = transition(to: status)
            differences.append("status: \(current.status) → \(status.rawValue)")
        }
        let changes = change.arms != nil || change.policy != nil || change.metrics != nil || change.analysis != nil
        if !changes && then == nil { return ManifestPlan(action: .unchanged, differences: []) }
        return ManifestPlan(action: .update(changes ? change : nil, then: then), differences: differences)
    }

    /// The lifecycle route that reaches `status`.
    static func transition(to status: Experiment.Status) -> ExperimentCatalog.LifecycleAction {
        switch status {
        case .draft, .running: .start
        case .paused: .pause
        case .stopped: .stop
        case .archived: .archive
        case .deleted: .delete
        }
    }
}
