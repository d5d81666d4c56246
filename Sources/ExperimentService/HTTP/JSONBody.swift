import Foundation
import Hummingbird

/// Decodes JSON request bodies and explains what is wrong with them in terms of the
/// request's own field paths (`arms[1].weight`), not Swift's.
public enum JSONBody {
    /// The largest body accepted.
    public static let maxBytes = 1 << 20

    /// Reads the whole body (up to ``maxBytes``) and decodes it as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(type, from: Data(try await collect(request).readableBytesView))
    }

    /// The same for a hot body type: read by ``FastJSON`` when it has the common shape,
    /// else decoded (and explained) by `JSONDecoder`.
    static func decode<T: Decodable & FastJSONDecodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await collect(request)
        if let decoded = buffer.withUnsafeReadableBytes({ bytes in FastJSON.decode(bytes) { T(fastJSON: &$0) } }) {
            return decoded
        }
        return try decode(type, from: Data(buffer.readableBytesView))
    }

    /// The whole body, up to ``maxBytes``; an empty body is refused.
    static func collect(_ request: Request) async throws -> ByteBuffer {
        let buffer = try await request.body.collect(upTo: maxBytes)
        guard buffer.readableBytes > 0 else {
            throw ServiceError.malformedJSON("the body is empty; send a JSON object")
        }
        return buffer
    }

    /// Decodes `data` as `T`, mapping `DecodingError` to ``ServiceError``.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(ServiceError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw .malformedJSON("\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> ServiceError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(path: path(context.codingPath + [key]), reason: "is required")
        case .valueNotFound(_, let context):
            return .invalidField(path: path(context.codingPath), reason: "must not be null")
        case .typeMismatch(let type, let context):
            return .invalidField(path: path(context.codingPath), reason: "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return .malformedJSON(underlying ?? context.debugDescription)
            }
            return .invalidField(path: path(context.codingPath), reason: "is invalid: \(context.debugDescription)")
        @unknown default:
            return .malformedJSON("\(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? "(body)" : out
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Double.Type, is Float.Type: "a number"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "of type \(type)"
        }
    }
}
