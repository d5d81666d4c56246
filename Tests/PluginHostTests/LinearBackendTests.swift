import Foundation
@testable import PluginHost
import Logging
import Testing

/// The `linear` model backend (plain C, policies/backends/linear.c) through the backend
/// ABI: the Iris classifier shipped in policies/models/iris-linear.
@Suite("Model backends: the linear backend through the ABI")
struct LinearBackendTests {
    static let services = PluginHostServices(logger: Logger(label: "backend-tests"))

    static func linear() throws -> BackendPlugin {
        let folder = try TestPlugins.folder("linear-backend")
        let path = try TestPlugins.compile("policies/backends/linear.c", into: folder, as: "liblinear_backend.so", libraries: ["cjson"])
        let backends = try BackendLibraryLoader(services: services).load(path: path)
        #expect(backends.map(\.id) == ["linear@1"])
        return try #require(backends.first)
    }

    static var modelFolder: String { TestPlugins.root + "/policies/models/iris-linear" }

    /// The Iris rows of the test fixture: four features and the species index.
    static func iris() throws -> [(features: [Float], label: Int)] {
        let text = try String(contentsOfFile: TestPlugins.root + "/Tests/Fixtures/iris/iris.csv", encoding: .utf8)
        let classes = ["setosa", "versicolor", "virginica"]
        return text.split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: ",")
            return (cells.prefix(4).map { Float($0)! }, classes.firstIndex(of: String(cells[4]))!)
        }
    }

    struct Weights: Decodable {
        var weights: [[Double]]
        var bias: [Double]
        var training_accuracy: Double
    }

    @Test("describes its tensors like Open Inference Protocol metadata")
    func metadata() throws {
        let model = try Self.linear().start().loadModel(folder: Self.modelFolder)
        #expect(model.metadata == ModelMetadata(
            platform: "switchboard-linear",
            inputs: [TensorSpec(name: "input", datatype: .fp32, shape: [-1, 4])],
            outputs: [TensorSpec(name: "probabilities", datatype: .fp32, shape: [-1, 3]),
                      TensorSpec(name: "class", datatype: .int64, shape: [-1])]))
    }

    @Test("classifies the 150 Iris rows in one batch as the weights say: softmax computed here, and the fitted accuracy")
    func predictsIris() throws {
        let model = try Self.linear().start().loadModel(folder: Self.modelFolder)
        let rows = try Self.iris()
        #expect(rows.count == 150)
        let outputs = try model.infer([Tensor(name: "input", shape: [150, 4], fp32: rows.flatMap(\.features))])
        let probabilities = try #require(outputs.first { $0.name == "probabilities" }?.fp32)
        let classes = try #require(outputs.first { $0.name == "class" }?.int64)
        let w = try JSONDecoder().decode(Weights.self, from: Data(contentsOf: URL(fileURLWithPath: Self.modelFolder + "/model.json")))
        var correct = 0
        for (i, row) in rows.enumerated() {
            var logits = [Double](repeating: 0, count: 3)
            for c in 0..<3 {
                var z = w.bias[c]
                for j in 0..<4 { z += w.weights[c][j] * Double(row.features[j]) }
                logits[c] = z
            }
            let top = logits.max()!
            let e = logits.map { exp($0 - top) }
            let expected = e.map { $0 / e.reduce(0, +) }
            for c in 0..<3 { #expect(abs(Double(probabilities[i * 3 + c]) - expected[c]) < 1e-5, "row \(i) class \(c)") }
            let best = expected.indices.max { expected[$0] < expected[$1] }!
            #expect(classes[i] == Int64(best))
            if best == row.label { correct += 1 }
        }
        #expect(Double(correct) / 150 == w.training_accuracy)
        #expect(correct >= 140)
    }

    @Test("bad tensors get a precise mismatch, never reach the backend")
    func badTensors() throws {
        let model = try Self.linear().start().loadModel(folder: Self.modelFolder)
        let cases: [([Tensor], String)] = [
            ([], "input 'input' is missing"),
            ([Tensor(name: "x", shape: [1, 4], fp32: [1, 2, 3, 4])], "unknown input 'x'; the model takes 'input'"),
            ([Tensor(name: "input", shape: [1, 4], fp32: [1, 2, 3, 4]), Tensor(name: "input", shape: [1, 4], fp32: [1, 2, 3, 4])],
             "input 'input' is given twice"),
            ([Tensor(name: "input", datatype: .fp64, shape: [1, 4], bytes: [UInt8](repeating: 0, count: 32))], "input 'input' must be FP32, not FP64"),
            ([Tensor(name: "input", shape: [4], fp32: [1, 2, 3, 4])], "input 'input' must have shape [-1, 4], not [4]"),
            ([Tensor(name: "input", shape: [1, 5], fp32: [1, 2, 3, 4, 5])], "input 'input' must have shape [-1, 4], not [1, 5]"),
            ([Tensor(name: "input", shape: [2, 4], fp32: [1, 2, 3, 4])], "input 'input' of shape [2, 4] needs 8 values, got 4"),
            ([Tensor(name: "input", shape: [0, 4], fp32: [])], "input 'input' has dimension 0 of size 0; sizes must be positive"),
        ]
        for (inputs, message) in cases {
            #expect(throws: LoadedModel.InferError.mismatch(TensorMismatch(message: message))) { try model.infer(inputs) }
        }
    }

    @Test("a model config or weights file it cannot use is refused with the reason")
    func badModels() throws {
        let backend = try Self.linear().start()
        let folder = try TestPlugins.folder("linear-models")
        try #"{"link": "probit", "features": ["a"], "classes": ["n", "y"], "weights": [[1]], "bias": [0]}"#
            .write(toFile: folder + "/model.json", atomically: true, encoding: .utf8)
        try #"{"link": "softmax", "features": ["a", "b"], "classes": ["n", "y"], "weights": [[1, 2], [3]], "bias": [0, 0]}"#
            .write(toFile: folder + "/short.json", atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            ("{}", #"field 'link' must be "softmax" or "logistic""#),
            (#"{"file": "short.json"}"#, "every row of 'weights' must hold one finite number per feature"),
            (#"{"file": "../etc/passwd"}"#, "config field 'file' must be a plain file name in the model folder"),
            (#"{"file": "missing.json"}"#, "cannot read the weights file \(folder)/missing.json"),
            ("[1]", "the model config is not a JSON object"),
        ]
        for (config, message) in cases {
            #expect(throws: PluginReportedError(code: PluginReportedError.invalidConfig, message: message)) {
                try backend.loadModel(folder: folder, config: config)
            }
        }
    }

    @Test("a logistic model gives two class probabilities")
    func logistic() throws {
        let backend = try Self.linear().start()
        let folder = try TestPlugins.folder("linear-logistic")
        try #"{"link": "logistic", "features": ["a", "b"], "classes": ["no", "yes"], "weights": [[2, -1]], "bias": [0.5]}"#
            .write(toFile: folder + "/model.json", atomically: true, encoding: .utf8)
        let model = try backend.loadModel(folder: folder)
        let out = try model.infer([Tensor(name: "input", shape: [2, 2], fp32: [1, 1, -1, 1])])
        let p = try #require(out[0].fp32)
        let z0 = 2.0 - 1 + 0.5, z1 = -2.0 - 1 + 0.5
        #expect(abs(Double(p[1]) - 1 / (1 + exp(-z0))) < 1e-6)
        #expect(abs(Double(p[3]) - 1 / (1 + exp(-z1))) < 1e-6)
        #expect(abs(Double(p[0] + p[1]) - 1) < 1e-6)
        #expect(out[1].int64 == [1, 0])
    }
}
