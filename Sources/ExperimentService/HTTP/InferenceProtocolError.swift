import Foundation
import Hummingbird

/// A problem as the Open Inference Protocol writes errors: `{"error": "..."}` with the
/// problem's status (and `Retry-After`), which the protocol's clients read.
struct InferenceProtocolError {
    let problem: Problem

    init(_ problem: Problem) { self.problem = problem }

    /// Whether a path is the protocol's: `/v2` and everything under it.
    static func applies(to path: String) -> Bool { path == "/v2" || path.hasPrefix("/v2/") }

    func response() -> Response {
        let body = (try? JSONEncoder().encode(["error": "\(problem.title): \(problem.detail)"])) ?? Data(#"{"error":"error"}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = problem.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if problem.statusCode == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: problem.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
