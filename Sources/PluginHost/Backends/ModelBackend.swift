import Foundation

import SwitchboardABI

/// A model backend from a plugin library, checked against the backend ABI but not started.
public struct BackendPlugin: @unchecked Sendable {
    public let name: String
    public let version: String
    public let concurrentInfer: Bool
    public let asyncInfer: Bool
    /// `infer` is short and never blocks: it may run on the request's own thread.
    public let inlineInfer: Bool
    public let libraryPath: String
    public let sha256: String
    let table: UnsafePointer<sb_backend>
    let services: PluginHostServices

    /// `name@version`.
    public var id: String { "\(name)@\(version)" }

    /// Calls the backend's `initialize` with its JSON config.
    public func start(config: String = "{}") throws(PluginReportedError) -> ModelBackend {
        var state: OpaquePointer?
        let error = config.withCString { table.pointee.initialize(services.api, $0, &state) }
        if let error = PluginHostServices.take(error) { throw error }
        return ModelBackend(plugin: self, state: state)
    }
}

/// A started backend: loads models.
public final class ModelBackend: @unchecked Sendable {
    public let plugin: BackendPlugin
    let state: OpaquePointer?

    init(plugin: BackendPlugin, state: OpaquePointer?) {
        self.plugin = plugin
        self.state = state
    }

    deinit { plugin.table.pointee.finalize(state) }

    /// Loads the model in `folder` (which the caller has checked is inside a plugin folder).
    public func loadModel(folder: String, config: String = "{}") throws(PluginReportedError) -> LoadedModel {
        var model: OpaquePointer?
        let error = folder.withCString { dir in config.withCString { plugin.table.pointee.model_load(state, dir, $0, &model) } }
        if let error = PluginHostServices.take(error) { throw error }
        var raw = sb_model_metadata()
        raw.struct_size = UInt32(MemoryLayout<sb_model_metadata>.size)
        if let error = PluginHostServices.take(plugin.table.pointee.model_metadata(model, &raw)) {
            plugin.table.pointee.model_unload(model)
            throw error
        }
        do {
            let metadata = try Self.metadata(raw)
            return LoadedModel(backend: self, model: model, metadata: metadata)
        } catch {
            plugin.table.pointee.model_unload(model)
            throw error
        }
    }

    /// Copies the plugin's metadata into Swift values, refusing what the ABI does not allow.
    static func metadata(_ raw: sb_model_metadata) throws(PluginReportedError) -> ModelMetadata {
        func specs(_ list: UnsafePointer<sb_tensor_desc>?, _ count: UInt32, _ what: String) throws(PluginReportedError) -> [TensorSpec] {
            guard count >= 1, count <= 64, let list else {
                throw PluginReportedError(code: PluginReportedError.internal, message: "the backend declares \(count) \(what) (1 to 64 allowed)")
            }
            var result: [TensorSpec] = []
            for i in 0..<Int(count) {
                let d = list[i]
                let name = d.name.map { String(cString: $0) } ?? ""
                guard let type = TensorDataType(code: d.datatype), (1...Int(SB_MAX_RANK)).contains(Int(d.rank)), !name.isEmpty else {
                    throw PluginReportedError(code: PluginReportedError.internal, message: "the backend declares an invalid \(what) tensor '\(name)'")
                }
                let shape = withUnsafeBytes(of: d.shape) { Array($0.bindMemory(to: Int64.self).prefix(Int(d.rank))) }
                // Fixed sizes positive, and their product within the tensor limit (-1, the batch, counts as 1 here).
                guard shape.allSatisfy({ $0 > 0 || $0 == -1 }), Tensor.elementCount(of: shape.map { $0 == -1 ? 1 : $0 }) != nil else {
                    throw PluginReportedError(code: PluginReportedError.internal, message: "the backend declares \(what) '\(name)' with shape \(shape) (sizes must be positive or -1, at most \(Tensor.maxElementCount) values)")
                }
                result.append(TensorSpec(name: name, datatype: type, shape: shape))
            }
            return result
        }
        return ModelMetadata(platform: raw.platform.map { String(cString: $0) } ?? "",
                             inputs: try specs(raw.inputs, raw.input_count, "inputs"),
                             outputs: try specs(raw.outputs, raw.output_count, "outputs"))
    }
}

/// A loaded model: validates requests against its metadata and runs `infer`.
public final class LoadedModel: @unchecked Sendable {
    public let backend: ModelBackend
    public let metadata: ModelMetadata
    let model: OpaquePointer?
    /// Serialises `infer` for backends without the concurrent-infer capability.
    private let lock = NSLock()

    init(backend: ModelBackend, model: OpaquePointer?, metadata: ModelMetadata) {
        self.backend = backend
        self.model = model
        self.metadata = metadata
    }

    deinit { backend.plugin.table.pointee.model_unload(model) }

    /// What went wrong with an inference.
    public enum InferError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The request does not fit the model (a client error).
        case mismatch(TensorMismatch)
        /// The backend failed.
        case backend(PluginReportedError)

        public var description: String {
            switch self {
            case .mismatch(let m): m.message
            case .backend(let e): "the backend failed: \(e.message)"
            }
        }
    }

    /// Runs one synchronous inference (blocking: call it from a thread that may block).
    /// Outputs are allocated by the host from the metadata, with -1 dimensions set to the
    /// inputs' batch size.
    public func infer(_ inputs: [Tensor]) throws(InferError) -> [Tensor] {
        let (ordered, batch): ([Tensor], Int64)
        do { (ordered, batch) = try metadata.validate(inputs) } catch { throw .mismatch(error) }
        guard let infer = backend.plugin.table.pointee.infer else {
            throw .backend(PluginReportedError(code: PluginReportedError.internal, message: "the backend only infers asynchronously"))
        }
        var outputs: [Tensor]
        do { outputs = try metadata.outputTensors(batch: batch) } catch { throw .mismatch(error) }
        let error: OpaquePointer? = Self.withLentTensors(inputs: ordered, outputs: &outputs) { inputTensors, outputTensors in
            let call = {
                infer(self.model, inputTensors.baseAddress, UInt32(inputTensors.count), outputTensors.baseAddress, UInt32(outputTensors.count))
            }
            return backend.plugin.concurrentInfer ? call() : lock.withLock(call)
        }
        if let error = PluginHostServices.take(error) { throw .backend(error) }
        return outputs
    }

    /// Runs one inference through the backend's `infer_async`: returns when the backend
    /// calls its completion (from any thread), never blocking a thread meanwhile.
    public func inferAsync(_ inputs: [Tensor]) async throws(InferError) -> [Tensor] {
        let (ordered, batch): ([Tensor], Int64)
        do { (ordered, batch) = try metadata.validate(inputs) } catch { throw .mismatch(error) }
        guard let inferAsync = backend.plugin.table.pointee.infer_async else {
            throw .backend(PluginReportedError(code: PluginReportedError.internal, message: "the backend has no asynchronous inference"))
        }
        let outputs: [Tensor]
        do { outputs = try metadata.outputTensors(batch: batch) } catch { throw .mismatch(error) }
        let result: Result<[Tensor], InferError> = await withCheckedContinuation { continuation in
            let call = AsyncInference(inputs: ordered, outputs: outputs, continuation: continuation)
            let context = Unmanaged.passRetained(call).toOpaque()
            let completion = sb_completion(complete: { context, error in
                // A backend that passes back no context breaks the contract; nothing can be resumed.
                guard let context else { return }
                Unmanaged<AsyncInference>.fromOpaque(UnsafeRawPointer(context)).takeRetainedValue().finish(error)
            }, context: OpaquePointer(context))
            let error = inferAsync(model, call.inputs.baseAddress, UInt32(call.inputs.count), call.outputs.baseAddress,
                                   UInt32(call.outputs.count), completion)
            if error != nil {  // not started: the completion will never run
                Unmanaged<AsyncInference>.fromOpaque(context).takeRetainedValue().finish(error)
            }
        }
        return try result.get()
    }

    /// Lends `inputs` (read-only) and `outputs` to C as `sb_tensor`s for the call, names
    /// and data in one host-allocated block (each data buffer 16-byte aligned), then copies
    /// what C wrote into the outputs back into them. One allocation per call, whatever the
    /// number of tensors.
    static func withLentTensors<R>(inputs: [Tensor], outputs: inout [Tensor],
                                   _ body: (UnsafeMutableBufferPointer<sb_tensor>, UnsafeMutableBufferPointer<sb_tensor>) -> R) -> R {
        func aligned(_ n: Int) -> Int { (n + 15) & ~15 }
        func footprint(_ t: Tensor) -> Int { aligned(t.name.utf8.count + 1) + aligned(max(t.bytes.count, 1)) }
        let size = inputs.reduce(0) { $0 + footprint($1) } + outputs.reduce(0) { $0 + footprint($1) }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 16), alignment: 16)
        defer { block.deallocate() }
        let count = inputs.count + outputs.count
        return withUnsafeTemporaryAllocation(of: sb_tensor.self, capacity: max(count, 1)) { raw in
            var offset = 0
            func lend(_ tensor: Tensor, as index: Int) {
                let name = block.baseAddress! + offset
                let utf8 = tensor.name.utf8
                UnsafeMutableRawBufferPointer(start: name, count: utf8.count).copyBytes(from: utf8)
                name.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
                offset += aligned(utf8.count + 1)
                let data = block.baseAddress! + offset
                tensor.bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: data, count: $0.count).copyMemory(from: $0) }
                offset += aligned(max(tensor.bytes.count, 1))
                var t = sb_tensor()
                t.name = UnsafePointer(name.assumingMemoryBound(to: CChar.self))
                t.datatype = tensor.datatype.code
                t.rank = UInt32(tensor.shape.count)
                withUnsafeMutableBytes(of: &t.shape) { shape in
                    for (axis, size) in tensor.shape.prefix(Int(SB_MAX_RANK)).enumerated() {
                        shape.storeBytes(of: size, toByteOffset: axis * 8, as: Int64.self)
                    }
                }
                t.data = data
                t.byte_size = UInt64(tensor.bytes.count)
                (raw.baseAddress! + index).initialize(to: t)
            }
            for (i, tensor) in inputs.enumerated() { lend(tensor, as: i) }
            for (i, tensor) in outputs.enumerated() { lend(tensor, as: inputs.count + i) }
            let result = body(UnsafeMutableBufferPointer(rebasing: raw[0..<inputs.count]),
                              UnsafeMutableBufferPointer(rebasing: raw[inputs.count..<count]))
            // From where the host put each output (not from `data`, which C could have changed).
            offset = inputs.reduce(0) { $0 + footprint($1) }
            for i in outputs.indices {
                offset += aligned(outputs[i].name.utf8.count + 1)
                let written = UnsafeRawBufferPointer(start: block.baseAddress! + offset, count: outputs[i].bytes.count)
                outputs[i].bytes.withUnsafeMutableBytes { $0.copyMemory(from: written) }
                offset += aligned(max(outputs[i].bytes.count, 1))
            }
            return result
        }
    }
}

/// The memory of one asynchronous inference, alive until the backend completes it.
final class AsyncInference: @unchecked Sendable {
    let inputs: UnsafeMutableBufferPointer<sb_tensor>
    let outputs: UnsafeMutableBufferPointer<sb_tensor>
    private let names: [UnsafeMutablePointer<CChar>?]
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let outputTensors: [Tensor]
    private let continuation: CheckedContinuation<Result<[Tensor], LoadedModel.InferError>, Never>

    init(inputs: [Tensor], outputs: [Tensor], continuation: CheckedContinuation<Result<[Tensor], LoadedModel.InferError>, Never>) {
        let all = inputs + outputs
        let names = all.map { strdup($0.name) }
        let buffers = all.map { UnsafeMutableRawBufferPointer.allocate(byteCount: max($0.bytes.count, 1), alignment: 16) }
        self.names = names
        self.buffers = buffers
        let raw = UnsafeMutableBufferPointer<sb_tensor>.allocate(capacity: all.count)
        for (i, tensor) in all.enumerated() {
            tensor.bytes.withUnsafeBytes { buffers[i].copyMemory(from: $0) }
            var t = sb_tensor()
            t.name = UnsafePointer(names[i])
            t.datatype = tensor.datatype.code
            t.rank = UInt32(tensor.shape.count)
            withUnsafeMutableBytes(of: &t.shape) { shape in
                for (axis, size) in tensor.shape.prefix(Int(SB_MAX_RANK)).enumerated() {
                    shape.storeBytes(of: size, toByteOffset: axis * 8, as: Int64.self)
                }
            }
            t.data = buffers[i].baseAddress
            t.byte_size = UInt64(tensor.bytes.count)
            raw[i] = t
        }
        self.inputs = UnsafeMutableBufferPointer(rebasing: raw[0..<inputs.count])
        self.outputs = UnsafeMutableBufferPointer(rebasing: raw[inputs.count...])
        outputTensors = outputs
        self.continuation = continuation
    }

    /// Copies the outputs out, resumes the caller and frees the call's memory.
    func finish(_ error: OpaquePointer?) {
        let result: Result<[Tensor], LoadedModel.InferError>
        if let error = PluginHostServices.take(error) {
            result = .failure(.backend(error))
        } else {
            let offset = inputs.count
            result = .success(outputTensors.enumerated().map { i, tensor in
                var copy = tensor
                copy.bytes = Array(UnsafeRawBufferPointer(rebasing: buffers[offset + i].prefix(tensor.bytes.count)))
                return copy
            })
        }
        continuation.resume(returning: result)
    }

    deinit {
        names.forEach { free($0) }
        buffers.forEach { $0.deallocate() }
        inputs.baseAddress?.deallocate()
    }
}
