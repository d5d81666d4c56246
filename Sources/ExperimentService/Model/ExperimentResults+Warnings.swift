import Foundation

extension ExperimentResults {
    /// The changes after which pooling phases can mislead: the allocation or the arms
    /// changed, so each phase compares arms under other shares (Simpson's paradox).
    static let allocationChanges: Set<String> = ["weights", "arms", "policy"]

    /// What a reader must know before trusting these figures: a sample-ratio mismatch
    /// (naming the expected and observed shares), pooled phases whose allocation differs,
    /// and guardrails moving the wrong way.
    public mutating func addWarnings() {
        if sampleRatio.mismatch {
            let observed = arms.reduce(0) { $0 + $1.decisions }, expected = arms.reduce(0.0) { $0 + $1.expectedDecisions }
            let shares = arms.map { arm in
                let o = observed > 0 ? Double(arm.decisions) / Double(observed) : 0
                let e = expected > 0 ? arm.expectedDecisions / expected : 0
                return "\(arm.arm) expected \(Self.percent(e)), observed \(Self.percent(o))"
            }
            warnings.append("sample-ratio mismatch (p = \(String(format: "%.2g", sampleRatio.pValue ?? 0))): "
                            + shares.joined(separator: "; ") + ". Assignment or logging is broken; do not trust the comparison.")
        }
        if phase == nil, phases.dropFirst().contains(where: { !Set($0.change.split(separator: ",").map(String.init)).isDisjoint(with: Self.allocationChanges) }) {
            warnings.append("the arms or their allocation changed between phases; figures pooled over phases can be biased "
                            + "(Simpson's paradox). Compare arms within one phase (?phase=N).")
        }
        for m in metrics where !m.metric.primary {
            for arm in m.arms where arm.guardrailViolated {
                warnings.append("guardrail '\(m.metric.name)' moves the wrong way for arm '\(arm.arm)' "
                                + "(it should \(m.metric.direction.rawValue); \(analysis.rawValue) analysis).")
            }
        }
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
}
