import NIOCore
import PluginHost
import PolicyABI

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
    public func tensor(field: String) throws(ServiceError) -> Tensor {
        guard let type = TensorDataType(rawValue: datatype) else {
            throw .invalidField(path: "\(field).datatype", reason: "must be one of \(TensorDataType.allCases.map(\.rawValue).joined(separator: ", ")); got '\(datatype)'")
        }
        guard !shape.isEmpty, shape.count <= 8, shape.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else {
            throw .invalidField(path: "\(field).shape", reason: "must have 1 to 8 positive sizes")
        }
        let count = shape.reduce(1, *)
        guard count == Int64(data.count) else {
            throw .invalidField(path: "\(field).data", reason: "has \(data.count) values, but shape \(shape) needs \(count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * type.byteWidth)
        for (i, value) in data.enumerated() {
            func bad(_ why: String) -> ServiceError { .invalidField(path: "\(field).data[\(i)]", reason: why) }
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

extension TensorPayload {
    /// The tensor as JSON text, written by hand for the prediction hot path. FP32 values
    /// are written as the shortest text that reads back as the same FP32 number.
    func write(to w: inout JSONWriter) {
        w.raw(#"{"name":"#); w.string(name)
        w.raw(#","datatype":"#); w.string(datatype)
        w.raw(#","shape":"#); w.array(shape) { w, size in w.number(Double(size)) }
        w.raw(#","data":"#)
        if datatype == "FP32" {
            w.array(data) { w, value in w.number(Float(value)) }
        } else {
            w.array(data) { w, value in w.number(value) }
        }
        w.raw("}")
    }

    /// The same, as text.
    var json: String {
        var w = JSONWriter(capacity: 128)
        write(to: &w)
        return w.text
    }
}

extension TensorPayload {
    /// The fast path of request decoding (see ``FastJSON``); nil if anything is unusual.
    init?(fastJSON value: JSONValue) {
        guard let o = value.objectValue, let name = o["name"]?.stringValue, let datatype = o["datatype"]?.stringValue,
              let shapeItems = o["shape"]?.arrayValue, let dataItems = o["data"]?.arrayValue else { return nil }
        var shape: [Int64] = []
        for item in shapeItems {
            guard let n = item.numberValue, n == n.rounded(), let size = Int64(exactly: n) else { return nil }
            shape.append(size)
        }
        var data: [Double] = []
        data.reserveCapacity(dataItems.count)
        var numbers = false, bools = false
        for item in dataItems {
            switch item {
            case .number(let n): data.append(n); numbers = true
            case .bool(let b): data.append(b ? 1 : 0); bools = true
            default: return nil
            }
        }
        guard !(numbers && bools) else { return nil }  // JSONDecoder refuses a mix
        self.init(name: name, datatype: datatype, shape: shape, data: data)
    }
}
