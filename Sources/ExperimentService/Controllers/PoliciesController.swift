import Hummingbird
import PluginHost

/// `POST /v1/policies` (register a plugin library from a plugin folder) and `GET /v1/policies`.
public struct PoliciesController<Context: RequestContext>: Sendable {
    let registry: PolicyRegistry
    let libraries: any PolicyLibraryRepository
    let quarantine: any PluginQuarantine

    public init(registry: PolicyRegistry, libraries: any PolicyLibraryRepository, quarantine: any PluginQuarantine) {
        self.registry = registry
        self.libraries = libraries
        self.quarantine = quarantine
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/policies", use: register)
        router.get("/v1/policies", use: list)
    }

    /// The request body.
    public typealias RegisterRequest = PolicyLibraryRegistration

    /// One policy as listed.
    public struct PolicyView: Codable, Sendable {
        public var name: String
        public var version: String
        public var capabilities: [String]
        public var sha256: String
        public var path: String
    }

    /// The answer to a registration: the library and the policies it provides.
    public struct RegisterResponse: ResponseEncodable, Decodable, Sendable {
        public var path: String
        public var sha256: String
        public var policies: [PolicyView]
    }

    /// The body of `GET /v1/policies`.
    public struct PolicyList: ResponseEncodable, Decodable, Sendable {
        public var policies: [PolicyView]
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> EditedResponse<RegisterResponse> {
        let body = try await JSONBody.decode(RegisterRequest.self, from: request)
        if let sha = body.sha256, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
            throw ServiceError.invalidField(path: "sha256", reason: "must be 64 hexadecimal digits")
        }
        let known = Set(registry.policies.map(\.sha256))
        let library: LoadedPolicyLibrary
        do {
            library = try await registry.registerChecked(path: body.path, expectedSHA256: body.sha256)
        } catch {
            throw ServiceError.pluginRefused(error.description)
        }
        try await libraries.record(sha256: library.sha256, path: library.path, policies: library.policies.map(\.id))
        // Registering a library again is how an admin switches it back on after a crash.
        try await quarantine.remove(sha256: library.sha256)
        registry.release(library.policies.map(\.id))
        let response = RegisterResponse(path: library.path, sha256: library.sha256, policies: library.policies.map(Self.view))
        return EditedResponse(status: known.contains(library.sha256) ? .ok : .created, response: response)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> PolicyList {
        PolicyList(policies: registry.policies.map(Self.view))
    }

    static func view(_ p: PolicyPlugin) -> PolicyView {
        PolicyView(name: p.name, version: p.version, capabilities: p.capabilities.names, sha256: p.sha256, path: p.libraryPath)
    }
}
