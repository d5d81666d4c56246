import SwitchboardABI

/// A tensor element type, named as in the Open Inference Protocol.
public enum TensorDataType: String, Sendable, Codable, CaseIterable {
    case bool = "BOOL", int32 = "INT32", int64 = "INT64", fp32 = "FP32", fp64 = "FP64"

    /// The ABI code (`sb_datatype`).
    public var code: Int32 {
        switch self {
        case .bool: Int32(SB_DATATYPE_BOOL.rawValue)
        case .int32: Int32(SB_DATATYPE_INT32.rawValue)
        case .int64: Int32(SB_DATATYPE_INT64.rawValue)
        case .fp32: Int32(SB_DATATYPE_FP32.rawValue)
        case .fp64: Int32(SB_DATATYPE_FP64.rawValue)
        }
    }

    public init?(code: Int32) {
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .bool: 1
        case .int32, .fp32: 4
        case .int64, .fp64: 8
        }
    }
}

/// A declared input or output of a model: name, type and shape (-1 = any size, the batch).
public struct TensorSpec: Sendable, Equatable, Codable {
    public var name: String
    public var datatype: TensorDataType
    public var shape: [Int64]

    public init(name: String, datatype: TensorDataType, shape: [Int64]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// What a model takes and gives (the Open Inference Protocol's model metadata).
public struct ModelMetadata: Sendable, Equatable {
    public var platform: String
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]

    public init(platform: String, inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A tensor with its data: dense, row-major, little-endian bytes.
public struct Tensor: Sendable, Equatable {
    public var name: String
    public var datatype: TensorDataType
    public var shape: [Int64]
    public var bytes: [UInt8]

    public init(name: String, datatype: TensorDataType, shape: [Int64], bytes: [UInt8]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.bytes = bytes
    }

    /// An FP32 tensor.
    public init(name: String, shape: [Int64], fp32 values: [Float]) {
        self.init(name: name, datatype: .fp32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// The most elements one tensor may hold (2^24, 64 MiB of FP32): a request or a
    /// model's declared shape that asks for more is refused, never multiplied into an overflow.
    public static let maxElementCount = 1 << 24

    /// The number of elements `shape` holds, or nil if a size is negative or the product
    /// passes ``maxElementCount`` (checked at every step, so no shape can overflow it).
    public static func elementCount(of shape: [Int64]) -> Int? {
        var count = 1
        for size in shape {
            guard size >= 0, size <= maxElementCount else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(size))
            guard !overflow, product <= maxElementCount else { return nil }
            count = product
        }
        return count
    }

    /// The number of elements the shape holds (0 for a shape past ``maxElementCount``,
    /// which no checked tensor has).
    public var elementCount: Int { Self.elementCount(of: shape) ?? 0 }

    /// The values of an FP32 tensor (nil for other types).
    public var fp32: [Float]? { values(.fp32, Float.self) }
    /// The values of an FP64 tensor.
    public var fp64: [Double]? { values(.fp64, Double.self) }
    /// The values of an INT64 tensor.
    public var int64: [Int64]? { values(.int64, Int64.self) }
    /// The values of an INT32 tensor.
    public var int32: [Int32]? { values(.int32, Int32.self) }

    private func values<T>(_ type: TensorDataType, _: T.Type) -> [T]? {
        guard datatype == type, bytes.count == elementCount * MemoryLayout<T>.size else { return nil }
        return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
    }
}

/// Why an inference request does not fit its model: a client error (HTTP 422).
public struct TensorMismatch: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension ModelMetadata {
    /// Checks `inputs` against the declared inputs (every one present once, with its type,
    /// rank, fixed dimensions and byte size; one batch size for every -1 dimension) and
    /// returns them in declared order with the batch size (1 if no dimension is -1).
    public func validate(_ inputs: [Tensor]) throws(TensorMismatch) -> (ordered: [Tensor], batch: Int64) {
        // The common case, inputs given in the model's order, needs no look-up by name.
        let inOrder = inputs.count == self.inputs.count && zip(inputs, self.inputs).allSatisfy { $0.name == $1.name }
        var byName: [String: Tensor] = [:]
        if !inOrder {
            for tensor in inputs {
                guard byName.updateValue(tensor, forKey: tensor.name) == nil else {
                    throw TensorMismatch(message: "input '\(tensor.name)' is given twice")
                }
                guard self.inputs.contains(where: { $0.name == tensor.name }) else {
                    throw TensorMismatch(message: "unknown input '\(tensor.name)'; the model takes \(self.inputs.map { "'\($0.name)'" }.joined(separator: ", "))")
                }
            }
        }
        var batch: Int64?
        var ordered: [Tensor] = []  // only when the inputs came in another order
        if !inOrder { ordered.reserveCapacity(self.inputs.count) }
        for (i, spec) in self.inputs.enumerated() {
            guard let tensor = inOrder ? inputs[i] : byName[spec.name] else { throw TensorMismatch(message: "input '\(spec.name)' is missing") }
            guard tensor.datatype == spec.datatype else {
                throw TensorMismatch(message: "input '\(spec.name)' must be \(spec.datatype.rawValue), not \(tensor.datatype.rawValue)")
            }
            guard tensor.shape.count == spec.shape.count else {
                throw TensorMismatch(message: "input '\(spec.name)' must have shape \(Self.describe(spec.shape)), not \(Self.describe(tensor.shape))")
            }
            for (axis, (want, got)) in zip(spec.shape, tensor.shape).enumerated() {
                guard got > 0 else { throw TensorMismatch(message: "input '\(spec.name)' has dimension \(axis) of size \(got); sizes must be positive") }
                if want == -1 {
                    if let batch, batch != got {
                        throw TensorMismatch(message: "input '\(spec.name)' has batch size \(got) in dimension \(axis), but other inputs have \(batch)")
                    }
                    batch = got
                } else if want != got {
                    throw TensorMismatch(message: "input '\(spec.name)' must have shape \(Self.describe(spec.shape)), not \(Self.describe(tensor.shape))")
                }
            }
            guard let count = Tensor.elementCount(of: tensor.shape) else {
                throw TensorMismatch(message: "input '\(spec.name)' of shape \(Self.describe(tensor.shape)) holds more than \(Tensor.maxElementCount) values")
            }
            guard tensor.bytes.count == count * spec.datatype.byteWidth else {
                throw TensorMismatch(message: "input '\(spec.name)' of shape \(Self.describe(tensor.shape)) needs \(count) values, got \(tensor.bytes.count / spec.datatype.byteWidth)")
            }
            if !inOrder { ordered.append(tensor) }
        }
        return (inOrder ? inputs : ordered, batch ?? 1)
    }

    /// The outputs to allocate for a batch of `batch`: each declared output with -1
    /// dimensions set to `batch`, zero-filled. Refuses outputs that would hold more than
    /// ``Tensor/maxElementCount`` values (a large batch times a large declared shape).
    public func outputTensors(batch: Int64) throws(TensorMismatch) -> [Tensor] {
        var tensors: [Tensor] = []
        tensors.reserveCapacity(outputs.count)
        for spec in outputs {
            let shape = spec.shape.map { $0 == -1 ? batch : $0 }
            guard let count = Tensor.elementCount(of: shape) else {
                throw TensorMismatch(message: "output '\(spec.name)' would have shape \(Self.describe(shape)), more than \(Tensor.maxElementCount) values; send a smaller batch")
            }
            tensors.append(Tensor(name: spec.name, datatype: spec.datatype, shape: shape,
                                  bytes: [UInt8](repeating: 0, count: count * spec.datatype.byteWidth)))
        }
        return tensors
    }

    static func describe(_ shape: [Int64]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
