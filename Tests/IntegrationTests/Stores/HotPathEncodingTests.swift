@testable import ExperimentService
import Foundation
import Hummingbird
import PolicyABI
import Testing

@Suite("Hand-written hot-path encodings agree with the libraries")
struct HotPathEncodingTests {
    static let awkward = ["plain", "quote \" and \\ backslash", "new\nline\ttab", "ctrl \u{01}\u{1f}", "unicode é 日本 🎉", "{a,b}", "NULL", ""]

    @Test("JSON strings and objects decode to what was written")
    func json() throws {
        for s in Self.awkward {
            #expect(try JSONDecoder().decode(String.self, from: Data(JSONText.string(s).utf8)) == s)
        }
        let object = ["x": 0.1, "y": -3e-7, "z \"q\"": 12345.678]
        #expect(try JSONDecoder().decode([String: Double].self, from: Data(JSONText.object(object).utf8)) == object)
        let response = AssignResponse(experiment: "e", variant: "v\"1", decisionID: "id", propensity: 1.0 / 3)
        #expect(try JSONDecoder().decode(AssignResponse.self, from: Data(response.json.utf8)).propensity == 1.0 / 3)
    }

    @Test("the hand-written prediction answer decodes to what was written")
    func prediction() throws {
        let outputs = [TensorPayload(name: "p\"q", datatype: "FP32", shape: [1, 3], data: [0.1, 1e-20, 3]),
                       TensorPayload(name: "class", datatype: "INT64", shape: [1], data: [2])]
        for ensemble in [nil, [PredictionController<BasicRequestContext>.EnsembleMember(variant: "a", weight: 0.25)]] {
            let response = PredictResponse(experiment: "e", variant: "v", decisionID: "d", propensity: 0.5, outputs: outputs, ensemble: ensemble)
            let decoded = try JSONDecoder().decode(PredictResponse.self, from: Data(response.json.utf8))
            #expect(decoded.outputs[1] == outputs[1])
            // FP32 values come back as the same FP32 numbers.
            #expect(decoded.outputs[0].data.map(Float.init) == outputs[0].data.map(Float.init))
            #expect(response.json.contains(#""data":[0.1,1e-20,3]"#))
            #expect(decoded.ensemble == ensemble)
            #expect(decoded.decisionID == "d" && decoded.propensity == 0.5)
        }
    }

    @Test("the fast JSON reader agrees with JSONDecoder on hot bodies, and gives up on anything unusual")
    func fastReader() throws {
        typealias Assign = AssignmentController<BasicRequestContext>.AssignRequest
        typealias Predict = PredictionController<BasicRequestContext>.PredictRequest
        func fast(_ text: String) -> JSONValue? { Array(text.utf8).withUnsafeBytes { FastJSON.parse($0) } }
        for body in [#"{"unit": "u-1"}"#, #" {"unit":"日本","context":{"x":1.5,"y":-2e-3},"extra":[1,{"a":null}]} "#,
                     #"{"unit": "u", "context": null}"#] {
            let slow = try JSONDecoder().decode(Assign.self, from: Data(body.utf8))
            let quick = try #require(fast(body).flatMap(Assign.init(fastJSON:)), "\(body)")
            #expect(quick.unit == slow.unit && quick.context == slow.context)
        }
        let predict = #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}, {"name": "b", "datatype": "BOOL", "shape": [2], "data": [true, false]}]}"#
        let slow = try JSONDecoder().decode(Predict.self, from: Data(predict.utf8))
        let quick = try #require(fast(predict).flatMap(Predict.init(fastJSON:)))
        #expect(quick.inputs == slow.inputs && quick.unit == slow.unit)
        // Unusual or invalid: left to JSONDecoder (which accepts or explains).
        for body in [#"{"unit": "a\"b"}"#, #"{"unit": "u", "unit": "v"}"#, #"{"unit": "u"} x"#, #"{"n": 01}"#, #"{"n": 1.}"#,
                     #"{"n": -}"#, #"{"n": 1e}"#, "[" + String(repeating: "[", count: 40) + String(repeating: "]", count: 41), #"{"unit": "u",}"#, ""] {
            #expect(fast(body) == nil, "\(body)")
        }
        #expect(fast(#"{"unit": 5}"#).flatMap(Assign.init(fastJSON:)) == nil)
        #expect(fast(#"{"unit": "u", "inputs": [{"name": "i", "datatype": "BOOL", "shape": [2], "data": [1, true]}]}"#)
                    .flatMap(Predict.init(fastJSON:)) == nil)
    }

    @Test("PostgreSQL array literals round-trip any text, and NULL, through the server")
    func arrays() async throws {
        _ = try await TestStores.stores()
        let values: [String?] = Self.awkward.filter { !$0.contains("\u{01}") } + [nil]
        let rows = try await TestStores.query("SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
                                              [PostgresArrayLiteral.make(values)])
        #expect(rows.map { $0[0] } == values)
    }
}
