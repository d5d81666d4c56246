import Foundation
import Hummingbird
import PluginHost
import PluginSupport

/// `POST /v1/experiments/{key}/predict` (the same experiment as an Open Inference Protocol
/// model is `InferenceProtocolController`'s).
public struct PredictionController<Context: RequestContext>: Sendable {
    let service: PredictionService
    let catalog: ExperimentCatalog

    public init(service: PredictionService, catalog: ExperimentCatalog) {
        self.service = service
        self.catalog = catalog
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/experiments/{key}/predict", use: predict)
    }

    /// The body of `predict`.
    public struct PredictRequest: Codable, Sendable {
        public var unit: String
        public var context: [String: Double]?
        public var inputs: [TensorPayload]
    }

    /// One arm of an ensemble's answer.
    public struct EnsembleMember: Codable, Sendable, Equatable {
        public var variant: String
        public var weight: Double
    }

    /// The answer of `predict`, as clients read it.
    public struct PredictResponse: Codable, Sendable {
        public var experiment: String
        public var variant: String
        public var decisionID: String
        public var propensity: Double
        public var outputs: [TensorPayload]
        public var ensemble: [EnsembleMember]?

        enum CodingKeys: String, CodingKey {
            case experiment, variant, propensity, outputs, ensemble
            case decisionID = "decision_id"
        }
    }

    /// The answer of `predict` as the route writes it: a ``PredictResponse`` in JSON written
    /// by hand straight from the models' tensors (a hot path).
    struct PredictAnswer: ResponseGenerator {
        let experiment: String
        let prediction: PredictionService.Prediction

        /// The JSON body.
        var body: ByteBuffer {
            let outputs = prediction.outputs, ensemble = prediction.ensemble, assignment = prediction.assignment
            // Sized for the whole answer (an Iris prediction is about 290 bytes): growing copies it.
            var w = JSONWriter(capacity: 192 + outputs.reduce(0) { $0 + 64 + 24 * $1.elementCount } + 64 * (ensemble?.count ?? 0))
            w.decisionFields(experiment: experiment, variant: assignment.variant, decisionID: DecisionID.text(assignment.decisionID),
                             propensity: assignment.propensity)
            w.raw(#","outputs":"#); w.array(outputs) { w, output in output.writeJSON(to: &w) }
            if let ensemble {
                w.raw(#","ensemble":"#)
                w.array(ensemble) { w, member in
                    w.raw(#"{"variant":"#); w.string(member.variant)
                    w.raw(#","weight":"#); w.exact(member.weight)
                    w.raw("}")
                }
            }
            w.raw("}")
            return w.buffer
        }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }

    @Sendable func predict(_ request: Request, context: Context) async throws -> PredictAnswer {
        let key = try context.parameters.require("key")
        let body = try await JSONBody.decode(PredictRequest.self, from: request)
        let p = try await service.predict(experiment: key, unit: body.unit, context: body.context, inputs: try Self.tensors(body.inputs))
        return PredictAnswer(experiment: key, prediction: p)
    }

    static func tensors(_ payloads: [TensorPayload]) throws(ServiceError) -> [Tensor] {
        guard !payloads.isEmpty, payloads.count <= 64 else { throw .invalidField(path: "inputs", reason: "must hold 1 to 64 tensors") }
        var tensors: [Tensor] = []
        for (i, payload) in payloads.enumerated() { tensors.append(try payload.tensor(field: "inputs[\(i)]")) }
        return tensors
    }
}

extension PredictionController.PredictRequest: FastJSONDecodable {
    init?(fastJSON r: inout FastJSON.Reader) {
        var unit: String?, context: [String: Double]??, inputs: [TensorPayload]?
        let read = r.object { r, key in
            if key == "unit" { return FastJSON.once(&unit, r.string()) }
            if key == "context" { return FastJSON.once(&context, r.numberMap()) }
            if key == "inputs" {
                var list: [TensorPayload] = []
                return r.array { r in TensorPayload(fastJSON: &r).map { list.append($0) } != nil } && FastJSON.once(&inputs, list)
            }
            return r.skip()
        }
        guard read, let unit, let inputs else { return nil }
        self.init(unit: unit, context: context ?? nil, inputs: inputs)
    }
}
