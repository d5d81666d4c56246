import ExperimentService
import Foundation
import PluginHost
import Testing

/// How a prediction's classes are read from its model's outputs (``OutputClasses``), and
/// how the results report them per arm (``ExperimentResults/outputs(arms:decisions:rows:)``).
@Suite("Output classes: read from a model's outputs, reported per arm")
struct OutputClassesTests {
    static func int64(_ name: String, _ values: [Int64]) -> Tensor {
        Tensor(name: name, datatype: .int64, shape: [Int64(values.count)], bytes: values.withUnsafeBytes { Array($0) })
    }

    @Test("a classifier's integer output is the classes, even after its scores")
    func integerOutput() {
        let scores = Tensor(name: "probabilities", shape: [2, 3], fp32: [0.1, 0.2, 0.7, 0.8, 0.1, 0.1])
        #expect(OutputClasses.of([scores, Self.int64("class", [2, 0])]) == [2, 0])
        let int32 = Tensor(name: "label", datatype: .int32, shape: [3], bytes: [Int32(4), -1, 7].withUnsafeBytes { Array($0) })
        #expect(OutputClasses.of([int32]) == [4, -1, 7])
        let bool = Tensor(name: "spam", datatype: .bool, shape: [3], bytes: [1, 0, 1])
        #expect(OutputClasses.of([bool]) == [1, 0, 1])
    }

    @Test("scores per class give each row's highest-scoring index (ties: the first)")
    func argmax() {
        #expect(OutputClasses.of([Tensor(name: "p", shape: [3, 3], fp32: [0.1, 0.2, 0.7, 0.5, 0.5, 0, -3, -1, -2])]) == [2, 0, 1])
        let fp64 = Tensor(name: "p", datatype: .fp64, shape: [1, 2], bytes: [0.25, 0.75].withUnsafeBytes { Array($0) })
        #expect(OutputClasses.of([fp64]) == [1])
        // NaN never wins.
        #expect(OutputClasses.of([Tensor(name: "p", shape: [1, 3], fp32: [.nan, 0.2, 0.1])]) == [1])
    }

    @Test("no class: a regression's one number per row, no outputs, or more than the cap")
    func none() {
        #expect(OutputClasses.of([Tensor(name: "y", shape: [4, 1], fp32: [1, 2, 3, 4])]) == nil)
        #expect(OutputClasses.of([Tensor(name: "y", shape: [4], fp32: [1, 2, 3, 4])]) == nil)
        #expect(OutputClasses.of([]) == nil)
        let many = [Int64](repeating: 1, count: OutputClasses.maxPerPrediction + 1)
        #expect(OutputClasses.of([Self.int64("class", many)]) == nil)
        #expect(OutputClasses.of([Self.int64("class", Array(many.dropLast()))])?.count == OutputClasses.maxPerPrediction)
    }

    @Test("per model arm: its model, predictions, classes most frequent first with shares summing to one")
    func perArm() {
        let arms = [Experiment.Arm(name: "a", backend: "lin"), Experiment.Arm(name: "b", backend: "xgb"), Experiment.Arm(name: "plain")]
        let outputs = ExperimentResults.outputs(arms: arms, decisions: [10, 5, 3],
                                                rows: [(0, 2, 3), (0, 1, 9), (1, 0, 5), (0, 7, 3)])
        #expect(outputs.map(\.arm) == ["a", "b"])
        #expect(outputs.map(\.model) == ["lin", "xgb"])
        #expect(outputs.map(\.predictions) == [10, 5])
        #expect(outputs[0].classes.map(\.outputClass) == [1, 2, 7])
        #expect(outputs[0].classes.map(\.share) == [0.6, 0.2, 0.2])
        #expect(outputs[1].classes == [.init(outputClass: 0, outputRows: 5, share: 1)])
    }
}
