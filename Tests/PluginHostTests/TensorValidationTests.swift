@testable import PluginHost
import Foundation
import SwitchboardABI
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

/// Element counts of shapes from requests and from plugins are checked, never multiplied
/// into an overflow (a shape like [2^24, 2^24, 2^24] used to abort the process).
@Suite("Tensor sizes are bounded")
struct TensorSizeTests {
    @Test("element counts past the limit, or past Int.max, are nil")
    func elementCounts() {
        #expect(Tensor.elementCount(of: [3, 4]) == 12)
        #expect(Tensor.elementCount(of: [Int64(Tensor.maxElementCount)]) == Tensor.maxElementCount)
        #expect(Tensor.elementCount(of: [Int64(Tensor.maxElementCount), 2]) == nil)
        #expect(Tensor.elementCount(of: [16_777_216, 16_777_216, 16_777_216]) == nil)
        #expect(Tensor.elementCount(of: [Int64.max, Int64.max]) == nil)
        #expect(Tensor.elementCount(of: [4, -1]) == nil)
        #expect(Tensor(name: "x", datatype: .fp32, shape: [Int64.max, 3], bytes: []).elementCount == 0)
    }

    @Test("an input whose shape overflows is a mismatch, not a crash")
    func hugeInput() {
        let metadata = ModelMetadata(platform: "test", inputs: [TensorSpec(name: "a", datatype: .fp32, shape: [-1, -1, -1])], outputs: [])
        let huge = Tensor(name: "a", datatype: .fp32, shape: [16_777_216, 16_777_216, 16_777_216], bytes: [])
        #expect(throws: TensorMismatch(message: "input 'a' of shape [16777216, 16777216, 16777216] holds more than 16777216 values")) {
            try metadata.validate([huge])
        }
    }

    @Test("outputs sized from a large batch and a large declared shape are refused")
    func hugeOutputs() throws {
        let metadata = ModelMetadata(platform: "test", inputs: [], outputs: [TensorSpec(name: "y", datatype: .fp64, shape: [-1, 65_536])])
        #expect(try metadata.outputTensors(batch: 2).map(\.bytes.count) == [2 * 65_536 * 8])
        #expect(throws: TensorMismatch.self) { try metadata.outputTensors(batch: 1_000) }
    }

    @Test("a backend that declares a shape past the limit is refused at load")
    func hugeDeclaredShape() throws {
        var desc = sb_tensor_desc()
        let name = strdup("y")!
        defer { free(name) }
        desc.name = UnsafePointer(name)
        desc.datatype = TensorDataType.fp32.code
        desc.rank = 3
        withUnsafeMutableBytes(of: &desc.shape) { raw in
            for axis in 0..<3 { raw.storeBytes(of: Int64(1) << 40, toByteOffset: axis * 8, as: Int64.self) }
        }
        var raw = sb_model_metadata()
        withUnsafePointer(to: desc) { d in
            raw.inputs = d
            raw.input_count = 1
            raw.outputs = d
            raw.output_count = 1
            #expect(throws: PluginReportedError.self) { try ModelBackend.metadata(raw) }
        }
    }
}
