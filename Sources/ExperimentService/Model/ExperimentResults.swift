import Foundation

/// An experiment's results: the rows of the SQL views `switchboard.arm_statistics`,
/// `switchboard.experiment_srm` and `switchboard.hourly_results`.
public struct ExperimentResults: Codable, Sendable {
    public struct Arm: Codable, Sendable {
        public var arm: String
        public var isControl: Bool
        public var decisions: Int
        public var expectedDecisions: Double
        public var rewards: Int
        public var mean: Double?
        public var sd: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
        public var lift: Double?
        public var relativeLift: Double?
        public var pValue: Double?

        enum CodingKeys: String, CodingKey {
            case arm, decisions, rewards, mean, sd, lift
            case isControl = "is_control"
            case expectedDecisions = "expected_decisions"
            case ciLow = "ci_low"
            case ciHigh = "ci_high"
            case relativeLift = "relative_lift"
            case pValue = "p_value"
        }
    }

    public struct SampleRatio: Codable, Sendable {
        public var chiSquare: Double?
        public var degreesOfFreedom: Int?
        public var pValue: Double?

        enum CodingKeys: String, CodingKey {
            case chiSquare = "chi_square"
            case degreesOfFreedom = "degrees_of_freedom"
            case pValue = "p_value"
        }
    }

    public struct Hour: Codable, Sendable {
        public var hour: String
        public var arm: String
        public var decisions: Int
        public var rewards: Int
        public var mean: Double?
    }

    public var experiment: String
    public var arms: [Arm]
    public var sampleRatio: SampleRatio
    public var hourly: [Hour]

    enum CodingKeys: String, CodingKey {
        case experiment, arms, hourly
        case sampleRatio = "sample_ratio"
    }
}
