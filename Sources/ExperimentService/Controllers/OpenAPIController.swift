import Foundation
import Hummingbird
import PluginSupport
import Yams

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route, written in YAML
/// (`Resources/openapi.yaml`, read with Yams) and served as JSON. `OpenAPIDocumentTests`
/// keeps its paths and methods equal to the router's.
public struct OpenAPIController<Context: RequestContext>: Sendable {
    /// The document as JSON, converted once (or why it could not be).
    let json: Result<ByteBuffer, any Error>

    public init() {
        json = Result { ByteBuffer(bytes: try Self.document()) }
    }

    /// The document, as JSON with sorted keys.
    public static func document() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw ServiceError.invalidField(path: "openapi.yaml", reason: "is missing from the service's resources")
        }
        let yaml = try String(contentsOf: url, encoding: .utf8)
        let value = try YAMLDecoder().decode(JSONValue.self, from: yaml)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        let json = self.json
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: try json.get()))
        }
    }
}
