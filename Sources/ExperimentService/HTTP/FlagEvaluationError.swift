import Foundation
import Hummingbird

/// A problem as OpenFeature's Remote Evaluation Protocol (OFREP) writes errors:
/// `{"key", "errorCode", "errorDetails"}` with the protocol's codes and statuses, which
/// OFREP providers read:
/// - 404 `FLAG_NOT_FOUND`: no experiment has the flag's key (or it was deleted);
/// - 400 `PARSE_ERROR` (a body that is not JSON or a field of the wrong shape),
///   `TARGETING_KEY_MISSING`, `INVALID_CONTEXT`, or `GENERAL` (a draft experiment);
/// - 401 and 403 as the API keys say; 429 with `Retry-After` when the service sheds load;
/// - 500 `GENERAL` for the rest (a store that is down).
struct FlagEvaluationError {
    let problem: Problem
    let key: String?

    /// Whether a path is the protocol's.
    static func applies(to path: String) -> Bool { path.hasPrefix("/ofrep/") }

    init(_ problem: Problem, path: String) {
        self.problem = problem
        let prefix = "/ofrep/v1/evaluate/flags/"
        key = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)).removingPercentEncoding : nil
    }

    /// The protocol's status and error code for the problem.
    var statusAndCode: (HTTPResponse.Status, String) {
        switch problem.type.split(separator: ":").last.map(String.init) ?? "" {
        case "unknown-experiment", "experiment-deleted": (.notFound, "FLAG_NOT_FOUND")
        case "targeting-key-missing": (.badRequest, "TARGETING_KEY_MISSING")
        case "invalid-context": (.badRequest, "INVALID_CONTEXT")
        case "malformed-json", "invalid-field": (.badRequest, "PARSE_ERROR")
        case "overloaded": (.tooManyRequests, "GENERAL")
        case "unauthorized": (.unauthorized, "GENERAL")
        case "forbidden": (.forbidden, "GENERAL")
        case "body-too-large": (.contentTooLarge, "PARSE_ERROR")
        default: problem.statusCode >= 500 ? (.internalServerError, "GENERAL") : (.badRequest, "GENERAL")
        }
    }

    struct Body: Encodable {
        var key: String?
        var errorCode: String
        var errorDetails: String
    }

    func response() -> Response {
        let (status, code) = statusAndCode
        let body = (try? JSONEncoder().encode(Body(key: key, errorCode: code, errorDetails: problem.detail))) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .tooManyRequests { headers[.retryAfter] = String(problem.retryAfter ?? 1) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
