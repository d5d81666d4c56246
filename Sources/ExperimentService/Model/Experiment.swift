import PluginSupport
import Foundation

/// An experiment as stored in PostgreSQL and cached by every replica.
public struct Experiment: Sendable, Equatable {
    /// The lifecycle state. New experiments start `running` (or `draft`). An archived
    /// experiment is read-only and left out of the default list; a deleted one is hidden
    /// and its key is never reused. Decisions and rewards are kept in every state.
    public enum Status: String, Sendable, Codable {
        case draft, running, paused, stopped, archived, deleted
    }

    /// One arm (variant).
    public struct Arm: Sendable, Equatable, Codable {
        public var name: String
        public var weight: Double
        /// A model backend name, for prediction experiments.
        public var backend: String?
        /// A retired arm gets no new units (``ExperimentChange``); its results stay.
        public var retired: Bool = false
        /// What the arm means to a feature-flag client: a string, boolean, number or JSON
        /// object (an OpenFeature flag's value, `docs/interfaces.md`); nil: the arm's name.
        public var value: JSONValue? = nil

        public init(name: String, weight: Double = 1, backend: String? = nil, value: JSONValue? = nil) {
            self.name = name
            self.weight = weight
            self.backend = backend
            self.value = value
        }

        enum CodingKeys: String, CodingKey { case name, weight, backend, retired, value }

        /// `weight` may be omitted and then is 1 (an even split).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            weight = try c.decodeIfPresent(Double.self, forKey: .weight) ?? 1
            backend = try c.decodeIfPresent(String.self, forKey: .backend)
            retired = try c.decodeIfPresent(Bool.self, forKey: .retired) ?? false
            value = try c.decodeIfPresent(JSONValue.self, forKey: .value)
        }
    }

    /// A policy plugin by name and optional version, with its JSON configuration.
    public struct PolicyReference: Sendable, Equatable, Codable {
        public var name: String
        public var version: String?
        public var config: JSONValue?
    }

    public var key: String
    public var arms: [Arm]
    public var control: String
    public var policy: PolicyReference?
    public var contextFeatures: [String]
    public var stickyTTLSeconds: Int?
    public var rewardWindowSeconds: Int?
    /// The reward a decision counts as when none arrives within the reward window.
    public var defaultReward: Double? = nil
    /// The per-experiment salt of the hash split, fixed at creation.
    public var salt: String
    /// The version of ``StableHash`` used to split units, fixed at creation.
    public var hashVersion: Int
    public var status: Status
    /// When the experiment was created: the time origin policies see (seconds since it).
    public var createdAt: Date
    /// What it measures: exactly one primary metric, the others guardrails.
    public var metrics: [Metric] = [.defaultPrimary]
    /// Which statistics judge it.
    public var analysis: Analysis = .sequential
    /// The current phase: 1 at creation, one more with each change (``ExperimentChange``).
    public var phase: Int = 1
    /// The arm weights at each change of the weights, first to last; nil until they change.
    public var weightHistory: [[Double]]? = nil

    /// The weights units are split by: a retired arm's is 0.
    public var effectiveWeights: [Double] { arms.map { $0.retired ? 0 : $0.weight } }

    /// How a fixed split's units follow weight changes.
    public var splitHistory: SplitHistory { SplitHistory(weights: weightHistory ?? [effectiveWeights]) }

    /// The weights a fixed split is configured with: the first ones, 0 for arms added since.
    public var initialWeights: [Double] {
        let first = weightHistory?.first ?? effectiveWeights
        return arms.indices.map { first.indices.contains($0) ? first[$0] : 0 }
    }

    /// The metric the policy learns.
    public var primaryMetric: Metric { metrics.first(where: \.primary) ?? .defaultPrimary }

    /// The index of the control arm.
    public var controlIndex: Int { arms.firstIndex { $0.name == control } ?? 0 }

    /// `name@version` of the experiment's policy.
    public var policyID: String { policy.map { "\($0.name)@\($0.version ?? "?")" } ?? "?" }
}
