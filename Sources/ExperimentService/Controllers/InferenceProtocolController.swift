import Foundation
import Hummingbird
import PluginHost

/// Experiments as Open Inference Protocol (KServe V2) models over REST: server metadata
/// (`GET /v2`), each experiment's model metadata and readiness, and infer with JSON or
/// binary tensors (`InferenceRequest`, `InferenceResponse`). A model's one version is its
/// experiment's phase. Health is `HealthController`'s; errors on `/v2` take the protocol's
/// shape, `{"error": "..."}` (`ProblemMiddleware`).
public struct InferenceProtocolController<Context: RequestContext>: Sendable {
    let service: PredictionService
    let catalog: ExperimentCatalog

    public init(service: PredictionService, catalog: ExperimentCatalog) {
        self.service = service
        self.catalog = catalog
    }

    /// The extensions `GET /v2` lists.
    public static var extensions: [String] { ["binary_tensor_data"] }

    /// Server metadata: open, like the health routes.
    public func addServerRoutes(to router: some RouterMethods<Context>) {
        router.get("/v2") { _, _ in ServerMetadata(name: ServiceInfo.name, version: ServiceInfo.version, extensions: Self.extensions) }
    }

    /// The model routes, with and without `/versions/{version}`.
    public func addModelRoutes(to router: some RouterMethods<Context>) {
        for prefix in ["/v2/models/{key}", "/v2/models/{key}/versions/{version}"] {
            router.get(RouterPath(prefix), use: metadata)
            router.get(RouterPath(prefix + "/ready"), use: ready)
            router.post(RouterPath(prefix + "/infer"), use: infer)
        }
    }

    public struct ServerMetadata: ResponseEncodable, Codable, Sendable {
        public var name: String
        public var version: String
        public var extensions: [String]
    }

    public struct ModelMetadata: ResponseEncodable, Codable, Sendable {
        public var name: String
        public var versions: [String]
        public var platform: String
        public var inputs: [TensorMetadataPayload]
        public var outputs: [TensorMetadataPayload]
    }

    public struct ModelReady: ResponseEncodable, Codable, Sendable {
        public var name: String
        public var ready: Bool
    }

    /// The experiment behind a model route, with the version checked: its phase.
    func entry(_ context: Context) async throws -> ExperimentCatalog.Entry {
        let key = try context.parameters.require("key")
        let entry = try await catalog.entry(key)
        if let version = context.parameters.get("version"), version != String(entry.experiment.phase) {
            throw ServiceError.unknownModelVersion(model: key, version: version, current: entry.experiment.phase)
        }
        return entry
    }

    func experiment(_ context: Context) async throws -> Experiment { try await entry(context).experiment }

    /// The outputs every prediction of the experiment has: an ensemble's one combined
    /// output, else those every arm's model declares.
    func outputNames(_ entry: ExperimentCatalog.Entry) async throws -> [String] {
        let experiment = entry.experiment
        if PredictionService.combines(entry) {
            let first = try await service.endpoint(experiment, arm: experiment.controlIndex).model.metadata.outputs.first
            return first.map { [$0.name] } ?? []
        }
        var names: [String]?
        for arm in experiment.arms.indices where experiment.arms[arm].backend != nil {
            let declared = try await service.endpoint(experiment, arm: arm).model.metadata.outputs.map(\.name)
            names = names.map { $0.filter(declared.contains) } ?? declared
        }
        return names ?? []
    }

    /// The metadata of the model behind the experiment's control arm.
    @Sendable func metadata(_ request: Request, context: Context) async throws -> ModelMetadata {
        let experiment = try await experiment(context)
        let m = try await service.endpoint(experiment, arm: experiment.controlIndex).model.metadata
        return ModelMetadata(name: experiment.key, versions: [String(experiment.phase)], platform: "switchboard/\(m.platform)",
                             inputs: m.inputs.map(TensorMetadataPayload.init), outputs: m.outputs.map(TensorMetadataPayload.init))
    }

    /// Ready when the experiment takes predictions and its control arm's model is loaded.
    @Sendable func ready(_ request: Request, context: Context) async throws -> ModelReady {
        let experiment = try await experiment(context)
        switch experiment.status {
        case .draft: throw ServiceError.notStarted(key: experiment.key)
        case .deleted: throw ServiceError.experimentDeleted(key: experiment.key)
        default: break
        }
        _ = try await service.endpoint(experiment, arm: experiment.controlIndex)
        return ModelReady(name: experiment.key, ready: true)
    }

    @Sendable func infer(_ request: Request, context: Context) async throws -> InferenceResponse {
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            throw ServiceError.unsupportedContentEncoding(encoding)
        }
        let body = try await JSONBody.collect(request)
        let inference = try InferenceRequest.decode(body, headerLength: request.headers[.inferenceHeaderContentLength])
        let entry = try await entry(context)
        let experiment = entry.experiment
        if let asked = inference.outputs {
            // Checked before the prediction, so a bad name leaves no decision.
            let names = try await outputNames(entry)
            for (i, o) in asked.enumerated() where !names.contains(o.name) {
                throw ServiceError.invalidField(path: "outputs[\(i)].name",
                                                reason: "'\(o.name.prefix(64))' is not an output of this model; its outputs are \(names.joined(separator: ", "))")
            }
        }
        let unit = inference.unit ?? inference.id ?? UUID().uuidString.lowercased()
        let prediction = try await service.predict(experiment: experiment.key, unit: unit, context: inference.context,
                                                   inputs: inference.inputs, sticky: inference.unit != nil)
        return InferenceResponse(model: experiment.key, version: String(experiment.phase), request: inference, prediction: prediction, unit: unit)
    }
}
