import Foundation
import Hummingbird
import PluginSupport

/// `POST /v1/experiments/{key}/assign`.
public struct AssignmentController<Context: RequestContext>: Sendable {
    let service: AssignmentService

    public init(service: AssignmentService) {
        self.service = service
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/experiments/{key}/assign", use: assign)
    }

    /// The request body.
    public struct AssignRequest: Codable, Sendable {
        public var unit: String
        public var context: [String: Double]?
    }

    /// The response body, written by hand on this hot path (JSONEncoder cost ~4 % of an
    /// assign's CPU); `AssignResponseTests` pins it against JSONEncoder's output.
    public struct AssignResponse: ResponseGenerator, Codable, Sendable {
        public var experiment: String
        public var variant: String
        public var decisionID: String
        public var propensity: Double

        enum CodingKeys: String, CodingKey {
            case experiment, variant, propensity
            case decisionID = "decision_id"
        }

        /// The JSON body.
        var body: ByteBuffer {
            var w = JSONWriter(capacity: 160)
            w.decisionFields(experiment: experiment, variant: variant, decisionID: decisionID, propensity: propensity)
            w.raw("}")
            return w.buffer
        }

        /// The JSON body as text.
        public var json: String { String(buffer: body) }

        public func response(from request: Request, context: some RequestContext) throws -> Response {
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }

    @Sendable func assign(_ request: Request, context: Context) async throws -> AssignResponse {
        let key = try context.parameters.require("key")
        let body = try await JSONBody.decode(AssignRequest.self, from: request)
        let a = try await service.assign(experiment: key, unit: body.unit, context: body.context)
        return AssignResponse(
            experiment: a.experiment, variant: a.variant,
            decisionID: DecisionID.text(a.decisionID), propensity: a.propensity
        )
    }
}

extension AssignmentController.AssignRequest: FastJSONDecodable {
    init?(fastJSON r: inout FastJSON.Reader) {
        var unit: String?, context: [String: Double]??
        let read = r.object { r, key in
            if key == "unit" { return FastJSON.once(&unit, r.string()) }
            if key == "context" { return FastJSON.once(&context, r.numberMap()) }
            return r.skip()
        }
        guard read, let unit else { return nil }
        self.init(unit: unit, context: context ?? nil)
    }
}
