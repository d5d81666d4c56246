/// What the list of experiments shows of each one's results (every phase together): its
/// decisions and the two checks a reader must see before opening it.
public struct ExperimentSummary: Sendable, Equatable {
    public var experiment: String
    public var decisions: Int
    public var sampleRatio: ExperimentResults.SampleRatio
    /// Whether a guardrail metric moves the wrong way.
    public var guardrailViolated: Bool

    public init(experiment: String, decisions: Int, sampleRatio: ExperimentResults.SampleRatio, guardrailViolated: Bool) {
        (self.experiment, self.decisions, self.sampleRatio, self.guardrailViolated) = (experiment, decisions, sampleRatio, guardrailViolated)
    }

    /// An experiment with no decisions yet.
    public static func empty(_ experiment: String) -> ExperimentSummary {
        ExperimentSummary(experiment: experiment, decisions: 0, sampleRatio: .init(chiSquare: nil, degreesOfFreedom: nil, pValue: nil),
                          guardrailViolated: false)
    }

    /// The summary of full results.
    public init(_ results: ExperimentResults) {
        self.init(experiment: results.experiment, decisions: results.arms.reduce(0) { $0 + $1.decisions }, sampleRatio: results.sampleRatio,
                  guardrailViolated: results.metrics.contains(where: \.guardrailViolated))
    }
}
