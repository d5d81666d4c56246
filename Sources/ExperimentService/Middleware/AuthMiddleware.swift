import Hummingbird

/// Requires `Authorization: Bearer <key>` with at least `required` scope: 401 for a
/// missing or unknown key, 403 for a client key on an admin route. Keys are never logged.
public struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    let required: APIKeys.Scope

    public init(keys: APIKeys, required: APIKeys.Scope) {
        self.keys = keys
        self.required = required
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isOpen else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized("this route needs 'Authorization: Bearer <key>'")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("the Authorization header must be 'Bearer <key>'")
        }
        guard let scope = keys.scope(of: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            throw Self.unauthorized("the API key is not valid")
        }
        guard scope >= required else {
            throw Problem(.forbidden, code: "forbidden", title: "Forbidden",
                          detail: "this route needs an admin key; the key given is a client key")
        }
        return try await next(request, context)
    }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, code: "unauthorized", title: "Unauthorized", detail: detail)
    }
}
