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

        public init(arm: String, isControl: Bool, decisions: Int, expectedDecisions: Double, rewards: Int, mean: Double?, sd: Double?,
                    ciLow: Double?, ciHigh: Double?, lift: Double?, relativeLift: Double?, pValue: Double?) {
            (self.arm, self.isControl, self.decisions, self.expectedDecisions, self.rewards) = (arm, isControl, decisions, expectedDecisions, rewards)
            (self.mean, self.sd, self.ciLow, self.ciHigh, self.lift, self.relativeLift, self.pValue) = (mean, sd, ciLow, ciHigh, lift, relativeLift, pValue)
        }

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

        public init(chiSquare: Double?, degreesOfFreedom: Int?, pValue: Double?) {
            (self.chiSquare, self.degreesOfFreedom, self.pValue) = (chiSquare, degreesOfFreedom, pValue)
        }

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

        public init(hour: String, arm: String, decisions: Int, rewards: Int, mean: Double?) {
            (self.hour, self.arm, self.decisions, self.rewards, self.mean) = (hour, arm, decisions, rewards, mean)
        }
    }

    public var experiment: String
    public var arms: [Arm]
    public var sampleRatio: SampleRatio
    public var hourly: [Hour]

    public init(experiment: String, arms: [Arm], sampleRatio: SampleRatio, hourly: [Hour]) {
        (self.experiment, self.arms, self.sampleRatio, self.hourly) = (experiment, arms, sampleRatio, hourly)
    }

    enum CodingKeys: String, CodingKey {
        case experiment, arms, hourly
        case sampleRatio = "sample_ratio"
    }
}
