import Foundation
@testable import PluginHost
import Logging
import Testing

/// The `xgboost` model backend (policies/backends/xgboost.c, on Debian's libxgboost)
/// through the ABI: a model trained on the Iris fixture through the XGBoost C API.
@Suite("Model backends: the xgboost backend through the ABI")
struct XGBoostBackendTests {
    static let services = PluginHostServices(logger: Logger(label: "xgboost-tests"))

    /// The backend, and a folder holding a model trained by Tests/Fixtures/xgboost/train_iris.c
    /// with the trained booster's own predictions (expected.csv).
    static func trained() throws -> (backend: BackendPlugin, folder: String) {
        let folder = try TestPlugins.folder("xgboost")
        let library = try TestPlugins.compile("policies/backends/xgboost.c", into: folder, as: "libxgboost_backend.so",
                                              libraries: ["xgboost", "cjson"])
        let trainer = folder + "/train_iris"
        let cc = try TestPlugins.run("/usr/bin/cc", ["-O2", "-o", trainer, TestPlugins.root + "/Tests/Fixtures/xgboost/train_iris.c", "-lxgboost"])
        try #require(cc.status == 0, "cc failed: \(cc.output)")
        let model = folder + "/iris"
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        let trained = try TestPlugins.run(trainer, [TestPlugins.root + "/Tests/Fixtures/iris/iris.csv", model])
        try #require(trained.status == 0, "training failed: \(trained.output)")
        let backends = try BackendLibraryLoader(services: services).load(path: library)
        #expect(backends.map(\.id) == ["xgboost@1"])
        return (try #require(backends.first), model)
    }

    @Test("a model trained on Iris through the C API predicts, loaded from its file, what the trained booster predicted")
    func predictsIris() throws {
        let (backend, folder) = try Self.trained()
        let model = try backend.start().loadModel(folder: folder)
        #expect(model.metadata == ModelMetadata(
            platform: "xgboost",
            inputs: [TensorSpec(name: "input", datatype: .fp32, shape: [-1, 4])],
            outputs: [TensorSpec(name: "probabilities", datatype: .fp32, shape: [-1, 3]),
                      TensorSpec(name: "class", datatype: .int64, shape: [-1])]))
        let rows = try LinearBackendTests.iris()
        let outputs = try model.infer([Tensor(name: "input", shape: [Int64(rows.count), 4], fp32: rows.flatMap(\.features))])
        let probabilities = try #require(outputs[0].fp32)
        let classes = try #require(outputs[1].int64)
        let expected = try String(contentsOfFile: folder + "/expected.csv", encoding: .utf8)
            .split(separator: "\n").flatMap { $0.split(separator: ",").map { Float($0)! } }
        #expect(expected.count == rows.count * 3)
        for i in expected.indices { #expect(abs(probabilities[i] - expected[i]) < 1e-6, "value \(i)") }
        let correct = zip(classes, rows).filter { Int($0.0) == $0.1.label }.count
        #expect(correct >= 145, "\(correct) of 150 right on the training data")
        // One row at a time gives the same answer as the batch.
        let one = try model.infer([Tensor(name: "input", shape: [1, 4], fp32: rows[100].features)])
        #expect(one[0].fp32 == Array(probabilities[300..<303]))
    }

    @Test("a folder without a model, or a file that is not one, is refused with the reason")
    func badModels() throws {
        let (backend, _) = try Self.trained()
        let started = try backend.start()
        let empty = try TestPlugins.folder("xgboost-empty")
        #expect(throws: PluginReportedError(code: PluginReportedError.invalidConfig, message: "cannot read the model file: \(empty)/model.json")) {
            try started.loadModel(folder: empty)
        }
        try "not a model".write(toFile: empty + "/model.json", atomically: true, encoding: .utf8)
        do {
            _ = try started.loadModel(folder: empty)
            Issue.record("a text file loaded as a model")
        } catch {
            #expect(error.code == PluginReportedError.invalidConfig)
            #expect(error.message.hasPrefix("XGBoost cannot load the model: "), "\(error.message)")
        }
    }
}
