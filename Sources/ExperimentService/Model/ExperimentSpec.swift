import PluginSupport
import Foundation

/// The body of `POST /v1/experiments`: an experiment as a client describes it.
public struct ExperimentSpec: Codable, Sendable {
    public var key: String
    public var arms: [Experiment.Arm]
    public var control: String?
    public var policy: Experiment.PolicyReference?
    public var contextFeatures: [String]?
    public var stickyTTLSeconds: Int?
    public var rewardWindowSeconds: Int?
    /// Optional fixed salt for the hash split (to reproduce an earlier experiment's buckets).
    public var salt: String?
    /// The reward a decision counts as when none arrives within `reward_window_seconds`.
    public var defaultReward: Double?
    /// `running` (the default) or `draft` (assigns nothing until started).
    public var status: Experiment.Status?
    /// What it measures; `reward` (continuous, increase) when omitted. With one metric, it
    /// is the primary one; with several, exactly one says `"primary": true`.
    public var metrics: [Metric]?
    /// `sequential` (the default) or `fixed_horizon`.
    public var analysis: Analysis?

    enum CodingKeys: String, CodingKey {
        case key, arms, control, policy, salt, status, metrics, analysis
        case contextFeatures = "context_features"
        case stickyTTLSeconds = "sticky_ttl_seconds"
        case rewardWindowSeconds = "reward_window_seconds"
        case defaultReward = "default_reward"
    }

    public init(key: String, arms: [Experiment.Arm], control: String? = nil, salt: String? = nil) {
        self.key = key
        self.arms = arms
        self.control = control
        self.salt = salt
    }

    /// Checks every field and returns the experiment to store, or the first problem found.
    public func validated(defaultSalt: String) throws(ServiceError) -> Experiment {
        guard Self.isValidKey(key) else {
            throw .invalidField(path: "key", reason: "must match [a-z0-9][a-z0-9_-]{0,62}; got '\(key)'")
        }
        guard (1...256).contains(arms.count) else {
            throw .invalidField(path: "arms", reason: "must list between 1 and 256 arms; got \(arms.count)")
        }
        var seen = Set<String>()
        for (i, arm) in arms.enumerated() {
            guard Self.isValidName(arm.name) else {
                throw .invalidField(path: "arms[\(i)].name", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(arm.name)'")
            }
            guard seen.insert(arm.name).inserted else {
                throw .invalidField(path: "arms[\(i)].name", reason: "repeats the arm name '\(arm.name)'")
            }
            guard arm.weight.isFinite, arm.weight >= 0, arm.weight <= Self.maxWeight else {
                throw .invalidField(path: "arms[\(i)].weight", reason: "must be a finite number >= 0 and <= \(Int(Self.maxWeight)); got \(arm.weight)")
            }
            if arm.retired {
                throw .invalidField(path: "arms[\(i)].retired", reason: "cannot be true at creation (retire an arm with PATCH /v1/experiments/\(key))")
            }
            if let backend = arm.backend, !Self.isValidKey(backend) {
                throw .invalidField(path: "arms[\(i)].backend", reason: "must name a model backend ([a-z0-9][a-z0-9_-]{0,62}); got '\(backend)'")
            }
            try Self.validate(value: arm.value, path: "arms[\(i)].value")
        }
        guard arms.contains(where: { $0.weight > 0 }) else {
            throw .invalidField(path: "arms", reason: "needs at least one arm with a positive weight")
        }
        let control = self.control ?? arms[0].name
        guard seen.contains(control) else {
            throw .invalidField(path: "control", reason: "must name one of the arms; '\(control)' is not an arm")
        }
        for (i, feature) in (contextFeatures ?? []).enumerated() where !Self.isValidName(feature) {
            throw .invalidField(path: "context_features[\(i)]", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(feature)'")
        }
        for (name, value) in [("sticky_ttl_seconds", stickyTTLSeconds), ("reward_window_seconds", rewardWindowSeconds)] {
            if let value, value <= 0 || value > Self.maxSeconds {
                throw .invalidField(path: name, reason: "must be a positive number of seconds up to \(Self.maxSeconds) (10 years); got \(value)")
            }
        }
        if let salt, salt.isEmpty || salt.utf8.count > 64 {
            throw .invalidField(path: "salt", reason: "must be 1 to 64 bytes long")
        }
        if let features = contextFeatures, Set(features).count != features.count {
            throw .invalidField(path: "context_features", reason: "repeats a feature name")
        }
        if policy?.config != .null { try Self.validate(config: policy?.config, path: "policy.config") }
        if let defaultReward {
            guard RewardService.isInRange(defaultReward) else {
                throw .invalidField(path: "default_reward", reason: "must be \(RewardService.rangeText)")
            }
            guard rewardWindowSeconds != nil else {
                throw .invalidField(path: "default_reward", reason: "needs reward_window_seconds (the default applies when the window ends)")
            }
        }
        if let status, status != .running && status != .draft {
            throw .invalidField(path: "status", reason: "must be 'running' or 'draft' at creation; got '\(status.rawValue)'")
        }
        if let name = policy?.name, name.isEmpty {
            throw .invalidField(path: "policy.name", reason: "must not be empty")
        }
        var experiment = Experiment(
            key: key, arms: arms, control: control, policy: policy,
            contextFeatures: contextFeatures ?? [], stickyTTLSeconds: stickyTTLSeconds,
            rewardWindowSeconds: rewardWindowSeconds, salt: salt ?? defaultSalt, hashVersion: 1, status: status ?? .running,
            createdAt: Date()
        )
        experiment.defaultReward = defaultReward
        experiment.metrics = try Self.validatedMetrics(metrics)
        experiment.analysis = analysis ?? .sequential
        if let defaultReward, let refusal = experiment.primaryMetric.refusal(of: defaultReward) {
            throw .invalidField(path: "default_reward", reason: refusal)
        }
        return experiment
    }

    /// The most metrics an experiment declares.
    public static let maxMetrics = 32

    /// Checks declared metrics: valid, distinct names and exactly one primary (a single
    /// metric is primary without saying so).
    public static func validatedMetrics(_ metrics: [Metric]?) throws(ServiceError) -> [Metric] {
        guard var metrics else { return [.defaultPrimary] }
        guard (1...maxMetrics).contains(metrics.count) else {
            throw .invalidField(path: "metrics", reason: "must list between 1 and \(maxMetrics) metrics; got \(metrics.count)")
        }
        var seen = Set<String>()
        for (i, metric) in metrics.enumerated() {
            guard isValidName(metric.name) else {
                throw .invalidField(path: "metrics[\(i)].name", reason: "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}; got '\(metric.name)'")
            }
            guard seen.insert(metric.name).inserted else {
                throw .invalidField(path: "metrics[\(i)].name", reason: "repeats the metric name '\(metric.name)'")
            }
        }
        if metrics.count == 1 { metrics[0].primary = true }
        let primaries = metrics.filter(\.primary).map(\.name)
        guard primaries.count == 1 else {
            throw .invalidField(path: "metrics", reason: primaries.isEmpty
                ? "must mark exactly one metric \"primary\": true (the one the policy learns); none is"
                : "must mark exactly one metric \"primary\": true; \(primaries.map { "'\($0)'" }.joined(separator: ", ")) are")
        }
        return metrics
    }

    /// The largest arm weight: 256 arms of it still sum to a finite number with room to spare.
    public static let maxWeight = 1e9
    /// The longest sticky TTL or reward window, 10 years (Redis takes it as an expiry).
    public static let maxSeconds = 315_360_000

    /// Experiment keys: `[a-z0-9][a-z0-9_-]{0,62}`.
    public static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func ok(_ b: UInt8, first: Bool) -> Bool {
            (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || (!first && (b == 0x5f || b == 0x2d))
        }
        return bytes.enumerated().allSatisfy { ok($1, first: $0 == 0) }
    }

    /// Arm and feature names: `[A-Za-z0-9][A-Za-z0-9_.-]{0,62}`.
    /// The largest arm value, as JSON.
    public static let maxValueBytes = 4_096

    /// An arm's value: a string, boolean, number, or object (not a bare array, which
    /// OpenFeature's flag types do not have), of at most ``maxValueBytes`` as JSON. A JSON
    /// `null` is no value.
    public static func validate(value: JSONValue?, path: String) throws(ServiceError) {
        guard let value else { return }
        switch value {
        case .null, .array:
            throw .invalidField(path: path, reason: "must be a string, boolean, number or JSON object")
        case .number(let n) where !n.isFinite:
            throw .invalidField(path: path, reason: "must be a finite number")
        default:
            try refuseNUL(value, path: path)
            let size = (try? JSONEncoder().encode(value).count) ?? Int.max
            guard size <= maxValueBytes else { throw .invalidField(path: path, reason: "is \(size) bytes as JSON; at most \(maxValueBytes)") }
        }
    }

    /// A plugin's config (a policy's or a model's): absent, or a JSON object that
    /// PostgreSQL's `jsonb` can hold. What the object may contain is the plugin's to check.
    public static func validate(config: JSONValue?, path: String) throws(ServiceError) {
        switch config {
        case nil: return
        case .object?: break
        default: throw .invalidField(path: path, reason: "must be a JSON object")
        }
        if let config { try refuseNUL(config, path: path) }
    }

    /// Refuses JSON that PostgreSQL's `jsonb` cannot hold: the NUL character in a string or key.
    static func refuseNUL(_ value: JSONValue, path: String) throws(ServiceError) {
        if containsNUL(value) {
            throw .invalidField(path: path, reason: "must not contain the NUL character (\\u0000), which PostgreSQL's jsonb cannot hold")
        }
    }

    /// Whether a string or key anywhere in `value` holds the NUL character.
    static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): s.utf8.contains(0)
        case .array(let items): items.contains(where: containsNUL)
        case .object(let members): members.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        default: false
        }
    }

    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func ok(_ b: UInt8, first: Bool) -> Bool {
            let alnum = (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
            return alnum || (!first && (b == 0x5f || b == 0x2d || b == 0x2e))
        }
        return bytes.enumerated().allSatisfy { ok($1, first: $0 == 0) }
    }
}
