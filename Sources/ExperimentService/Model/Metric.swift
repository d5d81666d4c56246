/// What an experiment measures. Rewards name their metric (the primary one by default);
/// the policy learns the primary metric only, and the others are guardrails: reported per
/// arm and flagged when they move the wrong way.
public struct Metric: Sendable, Equatable, Codable {
    /// The values a metric takes (rewards of another shape are refused).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// 0 or 1 (a conversion).
        case binary
        /// Any finite number.
        case continuous
        /// A whole number ≥ 0.
        case count
    }

    /// Which way is better.
    public enum Direction: String, Sendable, Codable, CaseIterable {
        case increase, decrease
    }

    public var name: String
    public var kind: Kind
    public var direction: Direction
    /// The metric the policy learns and the experiment is judged by (exactly one is).
    public var primary: Bool

    public init(name: String, kind: Kind = .continuous, direction: Direction = .increase, primary: Bool = false) {
        (self.name, self.kind, self.direction, self.primary) = (name, kind, direction, primary)
    }

    /// The metric of an experiment that declares none: `reward`, continuous, higher is better.
    public static let defaultPrimary = Metric(name: "reward", kind: .continuous, direction: .increase, primary: true)

    enum CodingKeys: String, CodingKey { case name, kind, direction, primary }

    /// `kind` defaults to continuous, `direction` to increase, `primary` to false.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .continuous
        direction = try c.decodeIfPresent(Direction.self, forKey: .direction) ?? .increase
        primary = try c.decodeIfPresent(Bool.self, forKey: .primary) ?? false
    }

    /// Why `value` is not a value of this metric, or nil if it is.
    public func refusal(of value: Double) -> String? {
        switch kind {
        case .continuous: nil
        case .binary: value == 0 || value == 1 ? nil : "must be 0 or 1 for the binary metric '\(name)'; got \(value)"
        case .count: value >= 0 && value.rounded() == value ? nil : "must be a whole number >= 0 for the count metric '\(name)'; got \(value)"
        }
    }
}

/// Which statistics an experiment is judged by: always-valid confidence sequences, safe to
/// look at any time (the default), or fixed-horizon intervals, valid only when read once
/// at a sample size fixed in advance. Both are computed and reported; this chooses which
/// flags guardrails and leads the results page.
public enum Analysis: String, Sendable, Codable, CaseIterable {
    case sequential
    case fixedHorizon = "fixed_horizon"
}
