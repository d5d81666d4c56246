import Foundation
import Hummingbird

/// An RFC 9457 problem response (`application/problem+json`).
public struct Problem: Error, HTTPResponseError, Codable, Equatable, Sendable {
    /// A URI naming the kind of problem, e.g. `urn:switchboard:problem:unknown-experiment`.
    public var type: String
    /// A short summary of the kind of problem (the same for every instance of a type).
    public var title: String
    public var statusCode: Int
    /// What went wrong with this request, precisely enough to fix it.
    public var detail: String
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    public var retryAfter: Int?

    enum CodingKeys: String, CodingKey {
        case type, title, detail
        case statusCode = "status"
        case retryAfter = "retry_after"
    }

    /// - Parameters:
    ///   - code: the problem type's last segment, such as `unknown-experiment`.
    public init(_ status: HTTPResponse.Status, code: String, title: String, detail: String, retryAfter: Int? = nil) {
        self.type = "urn:switchboard:problem:\(code)"
        self.title = title
        self.statusCode = status.code
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(self)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if statusCode == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
