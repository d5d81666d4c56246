import Foundation

/// The classes a prediction's model output (``OutputClasses``), for the decision that
/// recorded it: a row of `switchboard.decision_classes`.
public struct DecisionClasses: Sendable, Equatable {
    public var decisionID: UUID
    public var experiment: String
    public var phase: Int
    public var armIndex: Int
    public var classes: [Int64]

    public init(decisionID: UUID, experiment: String, phase: Int, armIndex: Int, classes: [Int64]) {
        (self.decisionID, self.experiment, self.phase, self.armIndex, self.classes) = (decisionID, experiment, phase, armIndex, classes)
    }

    /// The classes a decision carries (those of its arm's model), if any.
    public init?(_ decision: Decision) {
        guard let classes = decision.outputClasses else { return nil }
        self.init(decisionID: decision.id, experiment: decision.experiment, phase: decision.phase, armIndex: decision.armIndex, classes: classes)
    }
}
