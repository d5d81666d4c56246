import Hummingbird
import Foundation
import PluginHost
import PluginSupport

/// `POST /v1/backends` (register a model: a backend library and a model folder from the
/// plugin folders), `GET /v1/backends` and `DELETE /v1/backends/{name}` (stop routing to
/// the model; the library stays loaded). The routes keep their first name, `backends`.
public struct ModelsController<Context: RequestContext>: Sendable {
    let service: ModelService

    public init(service: ModelService) {
        self.service = service
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/backends", use: register)
        router.get("/v1/backends", use: list)
        router.delete("/v1/backends/{name}", use: remove)
    }

    /// The request body.
    public typealias RegisterRequest = BackendRegistration

    /// One registered model.
    public struct ModelView: ResponseEncodable, Codable, Sendable {
        public var name: String
        public var backend: String
        public var path: String
        public var sha256: String
        public var model: String
        public var platform: String
        public var inputs: [TensorMetadataPayload]
        public var outputs: [TensorMetadataPayload]
        public var concurrentInfer: Bool

        enum CodingKeys: String, CodingKey {
            case name, backend, path, sha256, model, platform, inputs, outputs
            case concurrentInfer = "concurrent_infer"
        }
    }

    /// The body of `GET /v1/backends`.
    public struct ModelList: ResponseEncodable, Codable, Sendable {
        public var backends: [ModelView]
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> EditedResponse<ModelView> {
        let body = try await JSONBody.decode(RegisterRequest.self, from: request)
        if let sha = body.sha256, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
            throw ServiceError.invalidField(path: "sha256", reason: "must be 64 hexadecimal digits")
        }
        try ExperimentSpec.validate(config: body.config, path: "config")
        let config = try body.config.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? "{}"
        let (endpoint, changed) = try await service.register(ModelRegistration(
            name: body.name, library: body.path, sha256: body.sha256, backend: body.backend, model: body.model, config: config))
        return EditedResponse(status: changed ? .created : .ok, response: Self.view(endpoint))
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> ModelList {
        ModelList(backends: service.endpoints.map(Self.view))
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> HTTPResponse.Status {
        try await service.remove(try context.parameters.require("name"))
        return .noContent
    }

    static func view(_ e: ModelEndpoint) -> ModelView {
        ModelView(name: e.registration.name, backend: e.plugin.id, path: e.registration.library, sha256: e.sha256,
                    model: e.registration.model, platform: e.model.metadata.platform,
                    inputs: e.model.metadata.inputs.map(TensorMetadataPayload.init),
                    outputs: e.model.metadata.outputs.map(TensorMetadataPayload.init), concurrentInfer: e.plugin.concurrentInfer)
    }
}
