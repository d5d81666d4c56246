import HTTPTypes
import Hummingbird
import PluginHost

/// An Open Inference Protocol infer response: a JSON object (`model_name`,
/// `model_version`, `id`, `parameters`, `outputs`), and with the binary tensor data
/// extension the outputs sent as binary data after it (`Inference-Header-Content-Length`
/// says where the JSON ends; each such output's `parameters.binary_data_size` its size).
struct InferenceResponse: ResponseGenerator {
    let model: String
    let version: String
    let request: InferenceRequest
    let prediction: PredictionService.Prediction
    let unit: String

    /// The outputs to send, in order, each with whether it goes as binary data: those asked
    /// for (an unknown name is a 400 naming the model's outputs), else every output.
    static func selected(_ outputs: [Tensor], request: InferenceRequest) throws(ServiceError) -> [(tensor: Tensor, binary: Bool)] {
        guard let asked = request.outputs else { return outputs.map { ($0, request.binaryDataOutput) } }
        var selected: [(tensor: Tensor, binary: Bool)] = []
        for (i, o) in asked.enumerated() {
            guard let tensor = outputs.first(where: { $0.name == o.name }) else {
                throw .invalidField(path: "outputs[\(i)].name", reason: "'\(o.name.prefix(64))' is not an output of this model; its outputs are \(outputs.map(\.name).joined(separator: ", "))")
            }
            selected.append((tensor, o.binary ?? request.binaryDataOutput))
        }
        return selected
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let outputs = try Self.selected(prediction.outputs, request: self.request)
        let a = prediction.assignment
        var w = JSONWriter(capacity: 256 + outputs.reduce(0) { $0 + 96 + ($1.binary ? 0 : 24 * $1.tensor.elementCount) })
        w.raw(#"{"model_name":"#); w.string(model)
        w.raw(#","model_version":"#); w.string(version)
        if let id = self.request.id { w.raw(#","id":"#); w.string(id) }
        w.raw(#","parameters":{"decision_id":"#); w.string(DecisionID.text(a.decisionID))
        w.raw(#","variant":"#); w.string(a.variant)
        w.raw(#","propensity":"#); w.exact(a.propensity)
        w.raw(#","unit":"#); w.string(unit)
        w.raw(#"},"outputs":"#)
        w.array(outputs) { w, o in o.tensor.writeJSON(to: &w, binary: o.binary, protocolBooleans: true) }
        w.raw("}")
        var body = w.buffer
        let jsonLength = body.readableBytes
        var headers: HTTPFields = [:]
        if outputs.contains(where: \.binary) {
            for o in outputs where o.binary { body.writeBytes(o.tensor.bytes) }
            headers[.contentType] = "application/octet-stream"
            headers[.inferenceHeaderContentLength] = String(jsonLength)
        } else {
            headers[.contentType] = "application/json"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

extension HTTPField.Name {
    /// The binary tensor data extension's header: the size of the JSON before the binary data.
    static let inferenceHeaderContentLength = HTTPField.Name("Inference-Header-Content-Length")!
}
