@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing

/// The Open Inference Protocol's REST routes on the real stores, byte by byte: server
/// metadata and health, versions, the binary tensor data extension both ways, requested
/// outputs, and the protocol's error shape. (The protocol's own clients drive the same
/// routes in `InferenceClientsTests`.)
@Suite("Open Inference Protocol over REST")
struct InferenceProtocolTests {
    static let row: [Float] = [6.3, 2.5, 5.0, 1.9]

    /// A one-model experiment over the Iris model; returns its key.
    func experiment(_ client: some TestClientProtocol) async throws -> String {
        let model = TestStores.uniqueKey("iris")
        let f = PredictionTests.fixture
        let r = try await client.send(.post, "/v1/backends", json: #"{"name": "\#(model)", "path": "\#(f.library)", "model": "\#(f.iris)"}"#)
        #expect(r.status == .created, "\(String(buffer: r.body))")
        return try await client.createExperiment(TestStores.uniqueKey("oip"), arms: #"[{"name": "linear", "backend": "\#(model)"}]"#)
    }

    /// A binary request: the JSON header, then each tensor's bytes.
    static func binaryBody(header: String, tensors: [[UInt8]]) -> (ByteBuffer, HTTPFields) {
        var body = ByteBuffer(string: header)
        for t in tensors { body.writeBytes(t) }
        return (body, [.contentType: "application/octet-stream", .inferenceHeaderContentLength: String(header.utf8.count)])
    }

    static func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// Splits a binary answer into its JSON and the bytes after it.
    static func split(_ response: TestResponse) throws -> (json: [String: Any], tail: [UInt8]) {
        let all = Array(response.body.readableBytesView)
        let length = try #require(response.headers[.inferenceHeaderContentLength].flatMap { Int($0) })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(all[0..<length])) as? [String: Any])
        return (json, Array(all[length...]))
    }

    static func decisions(_ key: String) async throws -> Int {
        Int(try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [key]).first?[0] ?? "") ?? -1
    }

    @Test("server metadata lists the binary extension; live and ready answer as the protocol's clients read them")
    func serverRoutes() async throws {
        try await withApp(policies: PredictionTests.fixture.policies) { client in
            let meta = try await client.send(.get, "/v2")
            #expect(meta.status == .ok)
            let server = try meta.decode(InferenceProtocolController<BasicRequestContext>.ServerMetadata.self)
            #expect(server.name == "switchboard" && server.version == ServiceInfo.version && server.extensions.contains("binary_tensor_data"))
            #expect(try await client.send(.get, "/v2/health/live").decode(HealthController<BasicRequestContext>.Live.self).live)
            #expect(try await client.send(.get, "/v2/health/ready").decode(HealthController<BasicRequestContext>.Ready.self).ready)
        }
    }

    @Test("a model's one version is its experiment's phase: routes with /versions/{phase} work, another version is a 404 in the protocol's shape")
    func versions() async throws {
        try await withApp(policies: PredictionTests.fixture.policies) { client in
            let key = try await experiment(client)
            let meta = try await client.send(.get, "/v2/models/\(key)/versions/1").decode(V2ModelMetadata.self)
            #expect(meta.versions == ["1"])
            #expect(try await client.send(.get, "/v2/models/\(key)/versions/1/ready").status == .ok)
            let input = #"[{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [[6.3, 2.5, 5.0, 1.9]]}]"#
            let answer = try await client.send(.post, "/v2/models/\(key)/versions/1/infer", json: #"{"inputs": \#(input)}"#)
                .decode(V2InferResponse.self)
            #expect(answer.modelVersion == "1" && answer.outputs.map(\.name) == ["probabilities", "class"])
            let wrong = try await client.send(.post, "/v2/models/\(key)/versions/7/infer", json: #"{"inputs": \#(input)}"#)
            #expect(wrong.status == .notFound && wrong.headers[.contentType] == "application/json")
            let error = try wrong.decode([String: String].self)["error"] ?? ""
            #expect(error.contains("model '\(key)' has no version '7'; its version is 1"), "\(error)")
            #expect(try await Self.decisions(key) == 1)
        }
    }

    @Test("binary tensors both ways: a binary input infers as its JSON twin, outputs come back as binary data when asked, one by one or all")
    func binaryData() async throws {
        try await withApp(policies: PredictionTests.fixture.policies) { client in
            let key = try await experiment(client)
            let json = try await client.send(.post, "/v2/models/\(key)/infer", json: """
                {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.5, 5.0, 1.9]}]}
                """).decode(V2InferResponse.self)
            // Binary in, every output binary out (binary_data_output).
            let header = #"{"id": "b1", "parameters": {"binary_data_output": true}, "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}]}"#
            let (body, headers) = Self.binaryBody(header: header, tensors: [Self.bytes(Self.row)])
            let r = try await client.execute(uri: "/v2/models/\(key)/infer", method: .post, headers: headers, body: body)
            #expect(r.status == .ok && r.headers[.contentType] == "application/octet-stream")
            let (answer, tail) = try Self.split(r)
            let outputs = try #require(answer["outputs"] as? [[String: Any]])
            #expect(outputs.map { $0["name"] as? String } == ["probabilities", "class"])
            #expect(outputs.allSatisfy { $0["data"] == nil })
            let sizes = outputs.compactMap { ($0["parameters"] as? [String: Any])?["binary_data_size"] as? Int }
            #expect(sizes == [12, 8] && tail.count == 20)
            let probabilities = tail[0..<12].withUnsafeBytes { raw in (0..<3).map { Double(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self)) } }
            let label = tail[12..<20].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
            #expect(PredictionTests.close(probabilities, json.outputs[0].data) && Double(label) == json.outputs[1].data[0])
            #expect(answer["id"] as? String == "b1" && answer["model_name"] as? String == key)
            // Asked outputs: only "class", as JSON, though the input was binary.
            let asked = #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}], "outputs": [{"name": "class", "parameters": {"binary_data": false}}]}"#
            let (askedBody, askedHeaders) = Self.binaryBody(header: asked, tensors: [Self.bytes(Self.row)])
            let one = try await client.execute(uri: "/v2/models/\(key)/infer", method: .post, headers: askedHeaders, body: askedBody)
            #expect(one.headers[.inferenceHeaderContentLength] == nil && one.headers[.contentType] == "application/json")
            let oneAnswer = try one.decode(V2InferResponse.self)
            #expect(oneAnswer.outputs.map(\.name) == ["class"] && oneAnswer.outputs[0].data == json.outputs[1].data)
            // Mixed: probabilities binary, class as JSON.
            let mixed = #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.5, 5.0, 1.9]}], "outputs": [{"name": "probabilities", "parameters": {"binary_data": true}}, {"name": "class"}]}"#
            let m = try await client.send(.post, "/v2/models/\(key)/infer", json: mixed)
            let (mixedAnswer, mixedTail) = try Self.split(m)
            let mixedOutputs = try #require(mixedAnswer["outputs"] as? [[String: Any]])
            #expect(mixedTail.count == 12 && (mixedOutputs[1]["data"] as? [Int]) == [Int(json.outputs[1].data[0])])
            #expect(try await Self.decisions(key) == 4)
        }
    }

    @Test("bad binary bodies, unknown outputs and absurd shapes are 4xx in the protocol's shape and leave no decision")
    func badRequests() async throws {
        try await withApp(policies: PredictionTests.fixture.policies) { client in
            let key = try await experiment(client)
            let input = #"{"name": "input", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}"#
            let row = Self.bytes(Self.row)
            let cases: [(String, ByteBuffer, HTTPFields, HTTPResponse.Status, String)] = [
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [\#(input)]}"#, tensors: [Array(row.prefix(12))]); return ("short data", b, h, .unprocessableContent, "only 12 bytes of binary data are left") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [\#(input)]}"#, tensors: [row + [1, 2]]); return ("extra bytes", b, h, .unprocessableContent, "2 bytes of binary data follow the JSON header") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [\#(input)]}"#, tensors: [Self.bytes([1, .nan, 2, 3])]); return ("NaN", b, h, .unprocessableContent, "holds a NaN or an infinity") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP16", "shape": [1, 4], "parameters": {"binary_data_size": 8}}]}"#, tensors: [Array(row.prefix(8))]); return ("FP16", b, h, .unprocessableContent, "must be one of BOOL, INT32, INT64, FP32, FP64; got 'FP16'") }(),
                { var (b, h) = Self.binaryBody(header: #"{"inputs": [\#(input)]}"#, tensors: [row]); h[.inferenceHeaderContentLength] = "99999"; _ = b; return ("header past the body", b, h, .unprocessableContent, "must be the JSON header's size in bytes") }(),
                { var (b, h) = Self.binaryBody(header: #"{"inputs": [\#(input)]}"#, tensors: [row]); h[.inferenceHeaderContentLength] = "-3"; return ("negative header", b, h, .unprocessableContent, "must be the JSON header's size in bytes") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [4294967296, 4294967296], "data": [1]}]}"#, tensors: []); return ("shape past Int.max", b, h, .unprocessableContent, "holds more than 16777216 values") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [[1, 2], [3, "x"]]}]}"#, tensors: []); return ("text in data", b, h, .unprocessableContent, "must hold numbers or booleans") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}], "outputs": [{"name": "logits"}]}"#, tensors: []); return ("unknown output", b, h, .unprocessableContent, "'logits' is not an output of this model; its outputs are probabilities, class") }(),
                { let (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}], "parameters": {"context": 5}}"#, tensors: []); return ("context of the wrong type", b, h, .unprocessableContent, "field 'parameters.context' must be an object of numbers") }(),
                { var (b, h) = Self.binaryBody(header: #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}"#, tensors: []); h[.contentEncoding] = "gzip"; return ("gzip", b, h, .unsupportedMediaType, "send it uncompressed") }(),
                (#"malformed JSON"#, ByteBuffer(string: "{\"inputs\": ["), [.contentType: "application/json"], .badRequest, "not valid JSON"),
            ]
            for (name, body, headers, status, detail) in cases {
                let r = try await client.execute(uri: "/v2/models/\(key)/infer", method: .post, headers: headers, body: body)
                #expect(r.status == status, "\(name): \(r.status) \(String(buffer: r.body))")
                #expect(r.headers[.contentType] == "application/json", "\(name)")
                let error = (try? r.decode([String: String].self))?["error"] ?? ""
                #expect(error.contains(detail), "\(name): \(error)")
            }
            #expect(try await Self.decisions(key) == 0)
            // Unknown models and routes answer in the same shape.
            for path in ["/v2/models/no-such-model", "/v2/models/no-such-model/ready", "/v2/nothing-here"] {
                let r = try await client.send(.get, path)
                #expect(r.status == .notFound && (try? r.decode([String: String].self))?["error"] != nil, "\(path): \(String(buffer: r.body))")
            }
        }
    }
}
