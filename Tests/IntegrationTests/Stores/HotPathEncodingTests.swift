@testable import ExperimentService
import Foundation
import Hummingbird
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
            #expect(decoded.outputs == outputs)
            #expect(decoded.ensemble == ensemble)
            #expect(decoded.decisionID == "d" && decoded.propensity == 0.5)
        }
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
