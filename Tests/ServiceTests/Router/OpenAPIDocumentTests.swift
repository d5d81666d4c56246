import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import TestSupport
import Testing

/// The OpenAPI document (`Resources/openapi.yaml`, served at `/openapi.json`) against the
/// router it describes. (schemathesis fuzzes a live service with it in `OpenAPIFuzzTests`.)
@Suite("The OpenAPI document lists exactly the router's routes")
struct OpenAPIDocumentTests {
    /// "METHOD /path" for every operation of the document.
    static func documented() throws -> Set<String> {
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIController<BasicRequestContext>.document()) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods = ["get", "put", "post", "delete", "patch", "head", "options"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    @Test("every route of the router is in the document, and every operation of the document is a route")
    func sameRoutes() throws {
        let components = ServiceComponents(stores: InMemoryStores().stores, policies: TestSupport.policies, logger: TestSupport.logger)
        let router = buildRouter(components, keys: APIKeys(admin: [], client: []), metrics: TestSupport.metrics)
        let routed = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
        let documented = try Self.documented()
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from the document")
        #expect(documented.subtracting(routed).sorted() == [], "operations the router does not have")
        #expect(routed.count > 30)
    }

    @Test("served at /openapi.json, open without a key")
    func served() async throws {
        try await withMemoryApp(keys: APIKeys(admin: ["a"], client: ["c"])) { client in
            let r = try await client.send(.get, "/openapi.json")
            #expect(r.status == .ok && r.headers[.contentType] == "application/json")
            let document = try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]
            #expect((document?["info"] as? [String: Any])?["version"] as? String == ServiceInfo.version)
        }
    }
}
