import NIOCore
import PluginHost
import PluginSupport

/// A tensor as the Open Inference Protocol's REST API writes it:
/// `{"name", "datatype", "shape", "data"}` with `data` flat, row-major.
public struct TensorPayload: Codable, Sendable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int64]
    public var data: [Double]

    public init(name: String, datatype: String, shape: [Int64], data: [Double]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case name, datatype, shape, data }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        datatype = try c.decode(String.self, forKey: .datatype)
        shape = try c.decode([Int64].self, forKey: .shape)
        // Numbers (tried first: the common case), or true/false for BOOL tensors.
        if let numbers = try? c.decode([Double].self, forKey: .data) {
            data = numbers
        } else {
            data = try c.decode([Bool].self, forKey: .data).map { $0 ? 1 : 0 }
        }
    }

    /// The tensor for a backend; `field` names it in error messages (e.g. `inputs[0]`).
    public func tensor(field: @autoclosure () -> String) throws(ServiceError) -> Tensor {
        guard let type = TensorDataType(rawValue: datatype) else {
            throw .invalidField(path: "\(field()).datatype", reason: "must be one of \(TensorDataType.allCases.map(\.rawValue).joined(separator: ", ")); got '\(datatype)'")
        }
        guard !shape.isEmpty, shape.count <= 8, shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidField(path: "\(field()).shape", reason: "must have 1 to 8 positive sizes")
        }
        guard let count = Tensor.elementCount(of: shape) else {
            throw .invalidField(path: "\(field()).shape", reason: "holds more than \(Tensor.maxElementCount) values")
        }
        guard count == data.count else {
            throw .invalidField(path: "\(field()).data", reason: "has \(data.count) values, but shape \(shape) needs \(count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * type.byteWidth)
        for (i, value) in data.enumerated() {
            func bad(_ why: String) -> ServiceError { .invalidField(path: "\(field()).data[\(i)]", reason: why) }
            switch type {
            case .fp32:
                guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else { throw bad("must be a finite FP32 number") }
                withUnsafeBytes(of: Float(value)) { bytes += $0 }
            case .fp64:
                guard value.isFinite else { throw bad("must be a finite number") }
                withUnsafeBytes(of: value) { bytes += $0 }
            case .int32:
                guard value == value.rounded(), let v = Int32(exactly: value) else { throw bad("must be an INT32 integer") }
                withUnsafeBytes(of: v) { bytes += $0 }
            case .int64:
                guard value == value.rounded(), let v = Int64(exactly: value) else { throw bad("must be an INT64 integer") }
                withUnsafeBytes(of: v) { bytes += $0 }
            case .bool:
                guard value == 0 || value == 1 else { throw bad("must be true or false") }
                bytes.append(value == 1 ? 1 : 0)
            }
        }
        return Tensor(name: name, datatype: type, shape: shape, bytes: bytes)
    }

    /// A backend's output as JSON.
    public init(_ tensor: Tensor) {
        let values: [Double] = switch tensor.datatype {
        case .fp32: (tensor.fp32 ?? []).map(Double.init)
        case .fp64: tensor.fp64 ?? []
        case .int32: (tensor.int32 ?? []).map(Double.init)
        case .int64: (tensor.int64 ?? []).map(Double.init)
        case .bool: tensor.bytes.map { $0 == 0 ? 0 : 1 }
        }
        self.init(name: tensor.name, datatype: tensor.datatype.rawValue, shape: tensor.shape, data: values)
    }
}

/// A declared input or output in Open Inference Protocol metadata.
public struct TensorMetadataPayload: Codable, Sendable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int64]

    public init(_ spec: TensorSpec) {
        name = spec.name
        datatype = spec.datatype.rawValue
        shape = spec.shape
    }
}

extension Tensor {
    /// The tensor as a ``TensorPayload``'s JSON, written by hand straight from its bytes for
    /// the prediction hot path. FP32 values are written as the shortest text that reads back
    /// as the same FP32 number; BOOL values as 0 and 1, or with `protocolBooleans` as the
    /// Open Inference Protocol writes them, true and false. With `binary`, the data is left
    /// out and `parameters.binary_data_size` says how many bytes of it follow the JSON.
    func writeJSON(to w: inout JSONWriter, binary: Bool = false, protocolBooleans: Bool = false) {
        w.raw(#"{"name":"#); w.string(name)
        w.raw(#","datatype":"#); w.string(datatype.rawValue)
        w.raw(#","shape":"#); w.array(shape) { w, size in w.integer(size) }
        if binary {
            w.raw(#","parameters":{"binary_data_size":"#); w.integer(Int64(bytes.count)); w.raw("}}")
            return
        }
        w.raw(#","data":"#)
        bytes.withUnsafeBytes { raw in
            let indices = 0..<raw.count / datatype.byteWidth
            switch datatype {
            case .fp32: w.array(indices) { w, i in w.number(raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)) }
            case .fp64: w.array(indices) { w, i in w.number(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            case .int32: w.array(indices) { w, i in w.integer(Int64(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .int64: w.array(indices) { w, i in w.integer(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            case .bool where protocolBooleans: w.array(indices) { w, i in if raw[i] == 0 { w.raw("false") } else { w.raw("true") } }
            case .bool: w.array(indices) { w, i in w.integer(raw[i] == 0 ? 0 : 1) }
            }
        }
        w.raw("}")
    }
}

extension TensorPayload {
    /// The fast path of request decoding (see ``FastJSON``); nil if anything is unusual.
    init?(fastJSON r: inout FastJSON.Reader) {
        var name: String?, datatype: String?, shape: [Int64]?, data: [Double]?
        let read = r.object { r, key in
            if key == "name" { return FastJSON.once(&name, r.string()) }
            if key == "datatype" { return FastJSON.once(&datatype, r.string()) }
            if key == "shape" { return FastJSON.once(&shape, r.integers()) }
            if key == "data" { return FastJSON.once(&data, Self.values(&r)) }
            return r.skip()
        }
        guard read, let name, let datatype, let shape, let data else { return nil }
        self.init(name: name, datatype: datatype, shape: shape, data: data)
    }

    /// `data`: numbers, or true/false for BOOL tensors (not a mix: JSONDecoder refuses one).
    private static func values(_ r: inout FastJSON.Reader) -> [Double]? {
        var values: [Double] = []
        values.reserveCapacity(16)
        var numbers = false, bools = false
        let read = r.array { r in
            if let b = r.bool() {
                values.append(b ? 1 : 0)
                bools = true
            } else if let n = r.number() {
                values.append(n)
                numbers = true
            } else {
                return false
            }
            return true
        }
        return read && !(numbers && bools) ? values : nil
    }
}
