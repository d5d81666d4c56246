import Foundation

/// An experiment's results: the rows of the SQL views `switchboard.metric_statistics`,
/// `switchboard.experiment_srm`, `switchboard.hourly_results` and
/// `switchboard.cumulative_results` for one experiment, for one phase or all of them.
public struct ExperimentResults: Codable, Sendable {
    /// One arm's figures for one metric.
    public struct Arm: Codable, Sendable {
        public var arm: String
        public var isControl: Bool
        public var decisions: Int
        public var expectedDecisions: Double
        public var rewards: Int
        public var mean: Double?
        public var sd: Double?
        /// The fixed-horizon 95 % interval of the mean.
        public var ciLow: Double?
        public var ciHigh: Double?
        public var lift: Double?
        public var relativeLift: Double?
        /// The fixed-horizon 95 % interval of the lift and its Welch p-value.
        public var liftCILow: Double?
        public var liftCIHigh: Double?
        public var pValue: Double?
        /// The always-valid 95 % confidence sequences of the mean and the lift, and the
        /// always-valid p-value.
        public var seqCILow: Double?
        public var seqCIHigh: Double?
        public var seqLiftCILow: Double?
        public var seqLiftCIHigh: Double?
        public var seqPValue: Double?
        /// A guardrail metric moving the wrong way, by the experiment's analysis.
        public var guardrailViolated: Bool = false

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
            case liftCILow = "lift_ci_low"
            case liftCIHigh = "lift_ci_high"
            case pValue = "p_value"
            case seqCILow = "seq_ci_low"
            case seqCIHigh = "seq_ci_high"
            case seqLiftCILow = "seq_lift_ci_low"
            case seqLiftCIHigh = "seq_lift_ci_high"
            case seqPValue = "seq_p_value"
            case guardrailViolated = "guardrail_violated"
        }
    }

    /// One declared metric's figures, per arm.
    public struct MetricResults: Codable, Sendable {
        public var metric: Metric
        public var arms: [Arm]

        public init(metric: Metric, arms: [Arm]) { (self.metric, self.arms) = (metric, arms) }

        /// A guardrail with an arm moving the wrong way.
        public var guardrailViolated: Bool { arms.contains { $0.guardrailViolated } }
    }

    public struct SampleRatio: Codable, Sendable, Equatable {
        public var chiSquare: Double?
        public var degreesOfFreedom: Int?
        public var pValue: Double?

        public init(chiSquare: Double?, degreesOfFreedom: Int?, pValue: Double?) {
            (self.chiSquare, self.degreesOfFreedom, self.pValue) = (chiSquare, degreesOfFreedom, pValue)
        }

        /// Below this p-value the allocation is flagged as a sample-ratio mismatch.
        public static let threshold = 0.001

        /// Whether the decisions' split differs from the logged probabilities' beyond chance.
        public var mismatch: Bool { (pValue ?? 1) < Self.threshold }

        enum CodingKeys: String, CodingKey {
            case chiSquare = "chi_square"
            case degreesOfFreedom = "degrees_of_freedom"
            case pValue = "p_value"
        }
    }

    /// Decisions made and primary-metric rewards received in one hour, for one arm.
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

    /// The primary metric accumulated up to the end of an hour, for one arm.
    public struct Cumulative: Codable, Sendable {
        public var hour: String
        public var arm: String
        public var rewards: Int
        public var mean: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
        public var seqCILow: Double?
        public var seqCIHigh: Double?

        public init(hour: String, arm: String, rewards: Int, mean: Double?, ciLow: Double?, ciHigh: Double?, seqCILow: Double?, seqCIHigh: Double?) {
            (self.hour, self.arm, self.rewards, self.mean, self.ciLow, self.ciHigh) = (hour, arm, rewards, mean, ciLow, ciHigh)
            (self.seqCILow, self.seqCIHigh) = (seqCILow, seqCIHigh)
        }

        enum CodingKeys: String, CodingKey {
            case hour, arm, rewards, mean
            case ciLow = "ci_low"
            case ciHigh = "ci_high"
            case seqCILow = "seq_ci_low"
            case seqCIHigh = "seq_ci_high"
        }
    }

    /// For a model experiment, one arm's model and what it predicted
    /// (`switchboard.output_classes`).
    public struct ModelOutputs: Codable, Sendable {
        public var arm: String
        public var model: String
        /// Predictions routed to the arm (its decisions).
        public var predictions: Int
        /// The classes its outputs held, most frequent first (``OutputClasses``).
        public var classes: [ClassCount]

        public init(arm: String, model: String, predictions: Int, classes: [ClassCount]) {
            (self.arm, self.model, self.predictions, self.classes) = (arm, model, predictions, classes)
        }
    }

    /// Output rows of one class, and their share of the arm's classified rows.
    public struct ClassCount: Codable, Sendable, Equatable {
        public var outputClass: Int64
        public var outputRows: Int
        public var share: Double

        public init(outputClass: Int64, outputRows: Int, share: Double) { (self.outputClass, self.outputRows, self.share) = (outputClass, outputRows, share) }

        enum CodingKeys: String, CodingKey {
            case share
            case outputClass = "class"
            case outputRows = "output_rows"
        }
    }

    public var experiment: String
    public var analysis: Analysis
    /// The phase these figures cover, or nil for every phase together.
    public var phase: Int?
    public var phases: [ExperimentPhase]
    /// The primary metric, per arm.
    public var arms: [Arm]
    /// Every declared metric, the primary one first.
    public var metrics: [MetricResults]
    public var sampleRatio: SampleRatio
    public var hourly: [Hour]
    public var cumulative: [Cumulative]
    /// Each arm's probability in the experiment's latest decision: its traffic share now.
    public var traffic: [Double]?
    /// For a model experiment, each model arm's predictions and output classes; empty otherwise.
    public var outputs: [ModelOutputs] = []
    /// What a reader must know before trusting the figures (sample-ratio mismatch, pooled
    /// phases with different allocations, guardrails moving the wrong way).
    public var warnings: [String]

    public init(experiment: String, analysis: Analysis = .sequential, phase: Int? = nil, phases: [ExperimentPhase] = [], metrics: [MetricResults],
                sampleRatio: SampleRatio, hourly: [Hour], cumulative: [Cumulative] = [], traffic: [Double]? = nil, warnings: [String] = []) {
        (self.experiment, self.analysis, self.phase, self.phases) = (experiment, analysis, phase, phases)
        self.metrics = metrics
        self.arms = metrics.first(where: \.metric.primary)?.arms ?? []
        (self.sampleRatio, self.hourly, self.cumulative, self.traffic, self.warnings) = (sampleRatio, hourly, cumulative, traffic, warnings)
    }

    enum CodingKeys: String, CodingKey {
        case experiment, analysis, phase, phases, arms, metrics, hourly, cumulative, traffic, outputs, warnings
        case sampleRatio = "sample_ratio"
    }
}

extension ExperimentResults {
    /// Each model arm's outputs (`arms` are the experiment's): `rows` are (arm index, class, output rows), as the view
    /// `switchboard.output_classes` gives them; predictions are the arms' decisions.
    public static func outputs(arms: [Experiment.Arm], decisions: [Int], rows: [(arm: Int, outputClass: Int64, outputRows: Int)]) -> [ModelOutputs] {
        arms.indices.compactMap { i in
            guard let model = arms[i].backend else { return nil }
            let mine = rows.filter { $0.arm == i }
            let total = mine.reduce(0) { $0 + $1.outputRows }
            let classes = mine.map { ClassCount(outputClass: $0.outputClass, outputRows: $0.outputRows, share: Double($0.outputRows) / Double(total)) }
                .sorted { ($1.outputRows, $0.outputClass) < ($0.outputRows, $1.outputClass) }
            return ModelOutputs(arm: arms[i].name, model: model, predictions: decisions.indices.contains(i) ? decisions[i] : 0,
                                classes: classes)
        }
    }
}
