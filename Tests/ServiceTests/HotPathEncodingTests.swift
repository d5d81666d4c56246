@testable import ExperimentService
import Foundation
import Hummingbird
import PluginHost
import PluginSupport
import TestSupport
import Testing

@Suite("Hand-written hot-path encodings agree with the libraries")
struct HotPathEncodingTests {

    @Test("JSON strings and objects decode to what was written")
    func json() throws {
        for s in TestSupport.awkwardTexts {
            #expect(try JSONDecoder().decode(String.self, from: Data(JSONText.string(s).utf8)) == s)
        }
        let object = ["x": 0.1, "y": -3e-7, "z \"q\"": 12345.678]
        #expect(try JSONDecoder().decode([String: Double].self, from: Data(JSONText.object(object).utf8)) == object)
        for n: Int64 in [0, 7, -7, 10, 1_000_000, -987_654_321, .max, .min] {
            var w = JSONWriter(capacity: 4)
            w.integer(n)
            #expect(w.text == String(n))
        }
        var numbers = JSONWriter(capacity: 8)
        numbers.array([0, -0.0, 3, 1e15, 2.5, -1e-7] as [Double]) { w, value in w.number(value) }
        numbers.array([0, 3, 1e7, 0.1, -2] as [Float]) { w, value in w.number(value) }
        #expect(numbers.text == "[0,0,3,1000000000000000.0,2.5,-1e-07][0,3,10000000.0,0.1,-2]")
        let response = AssignResponse(experiment: "e", variant: "v\"1", decisionID: "id", propensity: 1.0 / 3)
        #expect(try JSONDecoder().decode(AssignResponse.self, from: Data(response.json.utf8)).propensity == 1.0 / 3)
    }

    @Test("the hand-written prediction answer decodes to what was written")
    func prediction() throws {
        let outputs = [Tensor(name: "p\"q", shape: [1, 3], fp32: [0.1, 1e-20, 3]),
                       Tensor(name: "class", datatype: .int64, shape: [2], bytes: [2, Int64.max].withUnsafeBytes { Array($0) }),
                       Tensor(name: "x", datatype: .fp64, shape: [1], bytes: [-0.25].withUnsafeBytes { Array($0) }),
                       Tensor(name: "n", datatype: .int32, shape: [1], bytes: [Int32(-7)].withUnsafeBytes { Array($0) }),
                       Tensor(name: "b", datatype: .bool, shape: [2], bytes: [0, 1])]
        let id = DecisionID.make()
        for ensemble in [nil, [(variant: "a", weight: 0.25)]] {
            let assignment = AssignmentService.Assignment(experiment: "e", variant: "v", armIndex: 0, decisionID: id, propensity: 0.5)
            let answer = PredictionController<BasicRequestContext>.PredictAnswer(
                experiment: "e", prediction: .init(assignment: assignment, outputs: outputs, ensemble: ensemble))
            let json = String(buffer: answer.body)
            let decoded = try JSONDecoder().decode(PredictResponse.self, from: Data(json.utf8))
            #expect(decoded.outputs.map(\.name) == outputs.map(\.name))
            #expect(decoded.outputs.map(\.datatype) == ["FP32", "INT64", "FP64", "INT32", "BOOL"])
            #expect(decoded.outputs.map(\.shape) == outputs.map(\.shape))
            // FP32 values come back as the same FP32 numbers, written shortest; integers exactly.
            #expect(decoded.outputs[0].data.map(Float.init) == [0.1, 1e-20, 3])
            #expect(json.contains(#""data":[0.1,1e-20,3]"#) && json.contains(#""data":[2,9223372036854775807]"#))
            #expect(decoded.outputs[2].data == [-0.25] && decoded.outputs[3].data == [-7] && decoded.outputs[4].data == [0, 1])
            #expect(decoded.ensemble == ensemble.map { $0.map { .init(variant: $0.variant, weight: $0.weight) } })
            #expect(decoded.decisionID == DecisionID.text(id) && decoded.propensity == 0.5 && decoded.variant == "v")
        }
    }

    @Test("the fast JSON reader agrees with JSONDecoder on hot bodies, and gives up on anything unusual")
    func fastReader() throws {
        typealias Assign = AssignmentController<BasicRequestContext>.AssignRequest
        typealias Predict = PredictionController<BasicRequestContext>.PredictRequest
        func fast<T: FastJSONDecodable>(_ text: String, as type: T.Type) -> T? {
            Array(text.utf8).withUnsafeBytes { bytes in FastJSON.decode(bytes) { T(fastJSON: &$0) } }
        }
        for body in [#"{"unit": "u-1"}"#, #" {"unit":"日本","context":{"x":1.5,"y":-2e-3},"extra":[1,{"a":null, "b": [true, false, "s"]}]} "#,
                     #"{"unit": "u", "context": null}"#, #"{"context": {}, "unit": "u"}"#] {
            let slow = try JSONDecoder().decode(Assign.self, from: Data(body.utf8))
            let quick = try #require(fast(body, as: Assign.self), "\(body)")
            #expect(quick.unit == slow.unit && quick.context == slow.context)
        }
        let predict = #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}, {"datatype": "BOOL", "name": "b", "shape": [2], "data": [true, false], "parameters": {}}], "context": {"x": 1}}"#
        let slow = try JSONDecoder().decode(Predict.self, from: Data(predict.utf8))
        let quick = try #require(fast(predict, as: Predict.self))
        #expect(quick.inputs == slow.inputs && quick.unit == slow.unit && quick.context == slow.context)
        // Unusual or invalid: left to JSONDecoder (which accepts or explains).
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        for body in [#"{"unit": "a\"b"}"#, #"{"unit": "u", "unit": "v"}"#, #"{"unit": "u", "context": {"x": 1, "x": 2}}"#,
                     #"{"unit": "u"} x"#, #"{"unit": "u", "n": 01}"#, #"{"unit": "u", "n": 1.}"#, #"{"unit": "u", "n": -}"#,
                     #"{"unit": "u", "n": 1e}"#, #"{"unit": "u", "n": \#(deep)}"#, #"{"unit": "u",}"#, #"{"unit": "u" "n": 1}"#,
                     #"{"unit": 5}"#, #"{"context": {}}"#, #"{"unit": "u", "context": {"x": "1"}}"#, "[]", ""] {
            #expect(fast(body, as: Assign.self) == nil, "\(body)")
        }
        for body in [#"{"unit": "u", "inputs": [{"name": "i", "datatype": "BOOL", "shape": [2], "data": [1, true]}]}"#,
                     #"{"unit": "u", "inputs": [{"name": "i", "datatype": "FP32", "shape": [1.5], "data": [1]}]}"#,
                     #"{"unit": "u", "inputs": [{"name": "i", "datatype": "FP32", "shape": [1], "data": [1], "data": [2]}]}"#,
                     #"{"unit": "u", "inputs": [{"name": "i", "datatype": "FP32", "shape": [1]}]}"#,
                     #"{"unit": "u", "inputs": [], "inputs": []}"#, #"{"unit": "u"}"#] {
            #expect(fast(body, as: Predict.self) == nil, "\(body)")
        }
    }
}
