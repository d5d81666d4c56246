/// The conformance run of a model backend library, in the child process of a check: the
/// backend starts, loads the model, declares its metadata, infers on inputs shaped by that
/// metadata (zeros, batch 1 and batch 3) and writes outputs the host can read.
public struct BackendConformance {
    public init() {}

    /// Runs the checks on the backends of the library at `path` with the model in
    /// `model`, reporting each result as it is known (so a crash shows which check ran).
    public func run(_ plugins: [BackendPlugin], model: String, config: String, report: (PolicyConformance.Result) -> Void) async {
        for plugin in plugins {
            func result(_ check: String, _ error: String?) {
                report(.init(policy: plugin.id, check: check, passed: error == nil, detail: error ?? ""))
            }
            let loaded: LoadedModel
            do {
                loaded = try plugin.start().loadModel(folder: model, config: config)
                result("starts and loads the model in \(model)", nil)
            } catch {
                result("starts and loads the model in \(model)", error.message)
                continue
            }
            for batch in [Int64(1), 3] {
                let inputs = loaded.metadata.inputs.map { spec in
                    let shape = spec.shape.map { $0 == -1 ? batch : $0 }
                    let count = Tensor.elementCount(of: shape) ?? 0
                    return Tensor(name: spec.name, datatype: spec.datatype, shape: shape,
                                  bytes: [UInt8](repeating: 0, count: count * spec.datatype.byteWidth))
                }
                let check = "infers a batch of \(batch) on zero inputs"
                do {
                    let outputs = plugin.asyncInfer ? try await loaded.inferAsync(inputs) : try loaded.infer(inputs)
                    let names = outputs.map(\.name), declared = loaded.metadata.outputs.map(\.name)
                    result(check, names == declared ? nil : "it gave outputs \(names), not the declared \(declared)")
                } catch {
                    result(check, "\(error)")
                }
            }
        }
    }
}
