@testable import PluginHost
import Testing

/// `ModelMetadata.validate`: inputs are checked against the declared ones and handed to the
/// backend in declared order, whatever order the request gave them in.
@Suite("Model inputs are validated and put in declared order")
struct TensorValidationTests {
    static let metadata = ModelMetadata(
        platform: "test",
        inputs: [TensorSpec(name: "a", datatype: .fp32, shape: [-1, 2]), TensorSpec(name: "b", datatype: .int64, shape: [-1])],
        outputs: [])
    static let a = Tensor(name: "a", shape: [3, 2], fp32: [1, 2, 3, 4, 5, 6])
    static let b = Tensor(name: "b", datatype: .int64, shape: [3], bytes: [Int64(7), 8, 9].withUnsafeBytes { Array($0) })

    @Test("in order or not, the backend gets declared order and the batch size")
    func order() throws {
        for given in [[Self.a, Self.b], [Self.b, Self.a]] {
            let (ordered, batch) = try Self.metadata.validate(given)
            #expect(ordered == [Self.a, Self.b])
            #expect(batch == 3)
        }
    }

    @Test("batch sizes must agree, and every input must be there once")
    func mismatches() {
        let shortB = Tensor(name: "b", datatype: .int64, shape: [2], bytes: [Int64(7), 8].withUnsafeBytes { Array($0) })
        let cases: [([Tensor], String)] = [
            ([Self.a, shortB], "input 'b' has batch size 2 in dimension 0, but other inputs have 3"),
            ([Self.a], "input 'b' is missing"),
            ([Self.b, Self.a, Self.a], "input 'a' is given twice"),
        ]
        for (given, message) in cases {
            #expect(throws: TensorMismatch(message: message)) { try Self.metadata.validate(given) }
        }
    }
}
