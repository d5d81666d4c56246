import PluginHost

/// The classes a model predicted, read from its outputs, for a model experiment's class
/// distribution (`switchboard.output_classes`):
/// - the first output of an integer or boolean type: each value is a class (a classifier's
///   `class` output, shape `[-1]`);
/// - otherwise the first output when it holds scores per class (a floating-point tensor of
///   rank 2 or more whose last size is at least 2): each row's highest-scoring index (the first of equals; NaN never wins);
/// - otherwise none (a regression's one number per row has no class).
/// A prediction with more than ``maxPerPrediction`` classes records none.
public enum OutputClasses {
    public static let maxPerPrediction = 1_024

    public static func of(_ outputs: [Tensor]) -> [Int64]? {
        let classes: [Int64]?
        if let labels = outputs.first(where: { [.int32, .int64, .bool].contains($0.datatype) }) {
            classes = switch labels.datatype {
            case .int64: labels.int64
            case .int32: labels.int32?.map(Int64.init)
            default: labels.bytes.map { $0 == 0 ? 0 : 1 }
            }
        } else if let scores = outputs.first, scores.shape.count >= 2, let width = scores.shape.last, width >= 2,
                  let values = scores.datatype == .fp32 ? scores.fp32?.map(Double.init) : scores.fp64 {
            let k = Int(width)
            classes = stride(from: 0, to: values.count - k + 1, by: k).map { start in
                var best = start
                for i in start..<(start + k) where values[i] > values[best] || (values[best].isNaN && !values[i].isNaN) { best = i }
                return Int64(best - start)
            }
        } else {
            classes = nil
        }
        guard let classes, !classes.isEmpty, classes.count <= maxPerPrediction else { return nil }
        return classes
    }
}
