import Foundation
import NIOCore
import PluginHost
import PluginSupport

/// An Open Inference Protocol infer request (`POST /v2/models/{key}/infer`), read from a
/// JSON body or, with the binary tensor data extension, from a JSON header of
/// `Inference-Header-Content-Length` bytes followed by the binary inputs in order
/// (little-endian, row-major; BOOL one byte each).
///
/// Switchboard's own parameters: `unit` (a string; without it the request id, else a new
/// id, is a one-off unit that is never claimed) and `context` (an object of numbers, or
/// that object as a JSON string, the form gRPC parameters can carry).
public struct InferenceRequest: Sendable {
    public var id: String?
    public var unit: String?
    public var context: [String: Double]?
    public var inputs: [Tensor]
    /// The outputs asked for, in order (nil: every output).
    public var outputs: [RequestedOutput]?
    /// `binary_data_output`: outputs not asked for one by one are sent as binary data.
    public var binaryDataOutput: Bool

    public struct RequestedOutput: Sendable, Equatable {
        public var name: String
        /// `binary_data` of the output; nil: as `binary_data_output` says.
        public var binary: Bool?
    }

    /// The datatypes Switchboard's models take and give; the protocol's others (FP16,
    /// BYTES, UINT8 ...) are refused by name.
    static let datatypes = TensorDataType.allCases.map(\.rawValue).joined(separator: ", ")

    /// Reads a body; `headerLength` is the `Inference-Header-Content-Length` header (nil:
    /// the body is JSON alone).
    public static func decode(_ body: ByteBuffer, headerLength: String?) throws(ServiceError) -> InferenceRequest {
        let bytes = body.readableBytesView
        var jsonEnd = bytes.endIndex
        if let headerLength {
            guard let n = Int(headerLength.trimmingCharacters(in: .whitespaces)), n > 0, n <= bytes.count else {
                throw .invalidField(path: "Inference-Header-Content-Length",
                                    reason: "must be the JSON header's size in bytes, 1 to the body's \(bytes.count); got '\(headerLength.prefix(40))'")
            }
            jsonEnd = bytes.startIndex + n
        }
        let header = try JSONBody.decode(Header.self, from: Data(bytes[bytes.startIndex..<jsonEnd]))
        guard !header.inputs.isEmpty, header.inputs.count <= 64 else { throw .invalidField(path: "inputs", reason: "must hold 1 to 64 tensors") }
        var binary = bytes[jsonEnd...]
        var inputs: [Tensor] = []
        for (i, input) in header.inputs.enumerated() {
            let field = "inputs[\(i)]"
            if let size = input.parameters?["binary_data_size"] {
                guard case .number(let n) = size, n >= 0, n == n.rounded(), let count = Int(exactly: n) else {
                    throw .invalidField(path: "\(field).parameters.binary_data_size", reason: "must be a size in bytes")
                }
                guard input.data == nil else {
                    throw .invalidField(path: "\(field).data", reason: "must be absent when the tensor is sent as binary data (binary_data_size)")
                }
                guard count <= binary.count else {
                    throw .invalidField(path: "\(field).parameters.binary_data_size",
                                        reason: "is \(count) bytes, but only \(binary.count) bytes of binary data are left after the JSON header")
                }
                inputs.append(try tensor(input, bytes: Array(binary.prefix(count)), field: field))
                binary = binary.dropFirst(count)
            } else {
                guard let data = input.data else {
                    throw .invalidField(path: "\(field).data", reason: "is required (or send the tensor as binary data with parameters.binary_data_size)")
                }
                var values: [Double] = []
                try flatten(data, into: &values, field: "\(field).data")
                inputs.append(try TensorPayload(name: input.name, datatype: input.datatype, shape: input.shape, data: values).tensor(field: field))
            }
        }
        guard binary.isEmpty else {
            throw .invalidField(path: "inputs", reason: "\(binary.count) bytes of binary data follow the JSON header that no input's binary_data_size claims")
        }
        var context: [String: Double]?
        switch header.parameters?["context"] {
        case nil, .null?: context = nil
        case .object(let object)?: context = try numbers(object)
        case .string(let text)?:
            guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw .invalidField(path: "parameters.context", reason: "must be an object of numbers, or that object as a JSON string")
            }
            context = try numbers(object)
        default: throw .invalidField(path: "parameters.context", reason: "must be an object of numbers, or that object as a JSON string")
        }
        var unit: String?
        switch header.parameters?["unit"] {
        case nil, .null?: unit = nil
        case .string(let s)?: unit = s
        default: throw .invalidField(path: "parameters.unit", reason: "must be a string")
        }
        var binaryOutput = false
        switch header.parameters?["binary_data_output"] {
        case nil, .null?: break
        case .bool(let b)?: binaryOutput = b
        default: throw .invalidField(path: "parameters.binary_data_output", reason: "must be true or false")
        }
        let outputs = try header.outputs.map { list throws(ServiceError) -> [RequestedOutput] in
            var requested: [RequestedOutput] = []
            for (i, o) in list.enumerated() {
                switch o.parameters?["binary_data"] {
                case nil, .null?: requested.append(.init(name: o.name, binary: nil))
                case .bool(let b)?: requested.append(.init(name: o.name, binary: b))
                default: throw .invalidField(path: "outputs[\(i)].parameters.binary_data", reason: "must be true or false")
                }
            }
            return requested
        }
        return InferenceRequest(id: header.id, unit: unit, context: context, inputs: inputs, outputs: outputs, binaryDataOutput: binaryOutput)
    }

    /// A binary input's tensor: its bytes as sent, checked against its datatype and shape.
    static func tensor(_ input: Header.Input, bytes: [UInt8], field: String) throws(ServiceError) -> Tensor {
        guard let type = TensorDataType(rawValue: input.datatype) else {
            throw .invalidField(path: "\(field).datatype", reason: "must be one of \(datatypes); got '\(input.datatype.prefix(40))'")
        }
        guard !input.shape.isEmpty, input.shape.count <= 8, input.shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidField(path: "\(field).shape", reason: "must have 1 to 8 positive sizes")
        }
        guard let count = Tensor.elementCount(of: input.shape) else {
            throw .invalidField(path: "\(field).shape", reason: "holds more than \(Tensor.maxElementCount) values")
        }
        guard bytes.count == count * type.byteWidth else {
            throw .invalidField(path: "\(field).parameters.binary_data_size",
                                reason: "is \(bytes.count) bytes, but shape \(input.shape) of \(type.rawValue) needs \(count * type.byteWidth)")
        }
        if type == .bool, let i = bytes.firstIndex(where: { $0 > 1 }) {
            throw .invalidField(path: "\(field)", reason: "BOOL element \(i) is byte \(bytes[i]); must be 0 or 1")
        }
        if type == .fp32 || type == .fp64 {
            let finite = bytes.withUnsafeBytes { raw in
                type == .fp32 ? (0..<count).allSatisfy { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self).isFinite }
                              : (0..<count).allSatisfy { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self).isFinite }
            }
            guard finite else { throw .invalidField(path: field, reason: "holds a NaN or an infinity; values must be finite") }
        }
        return Tensor(name: input.name, datatype: type, shape: input.shape, bytes: bytes)
    }

    /// Flattens `data` (flat, or nested by the shape, as the protocol allows) in row-major order.
    static func flatten(_ data: JSONValue, into values: inout [Double], field: String) throws(ServiceError) {
        switch data {
        case .number(let n): values.append(n)
        case .bool(let b): values.append(b ? 1 : 0)
        case .array(let items):
            for item in items { try flatten(item, into: &values, field: field) }
        default: throw .invalidField(path: field, reason: "must hold numbers or booleans (BYTES tensors are not supported)")
        }
    }

    static func numbers(_ object: [String: JSONValue]) throws(ServiceError) -> [String: Double] {
        var result: [String: Double] = [:]
        for (key, value) in object {
            guard case .number(let n) = value else { throw .invalidField(path: "parameters.context.\(key)", reason: "must be a number") }
            result[key] = n
        }
        return result
    }

    /// The JSON header.
    struct Header: Decodable {
        struct Input: Decodable {
            var name: String
            var datatype: String
            var shape: [Int64]
            var parameters: [String: JSONValue]?
            var data: JSONValue?
        }

        struct Output: Decodable {
            var name: String
            var parameters: [String: JSONValue]?
        }

        var id: String?
        var parameters: [String: JSONValue]?
        var inputs: [Input]
        var outputs: [Output]?
    }
}
