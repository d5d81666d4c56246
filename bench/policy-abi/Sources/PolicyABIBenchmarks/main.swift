// Nanoseconds per choose, per update, and per choose + update, through the policy C ABI
// (dlopen'ed libraries, host buffers, no allocation per call), for every built-in policy
// and the C example. Statistics are warmed with 2,000 random rewards first and then held
// fixed, so every iteration sees the same state.
//
// Each benchmark iteration makes `callsPerIteration` calls, so the harness's clock reads
// do not dominate calls of a few nanoseconds: the reported time in microseconds
// (`--time-unit us`, set by bench/policy-abi/run) is nanoseconds per call.
let callsPerIteration = 1_000
import Benchmark
import Foundation
import Logging
import PluginHost

let environment = ProcessInfo.processInfo.environment
guard let builtIn = environment["SWITCHBOARD_BUILTIN_POLICIES"], let example = environment["SWITCHBOARD_EXAMPLE_POLICY"] else {
    fatalError("set SWITCHBOARD_BUILTIN_POLICIES and SWITCHBOARD_EXAMPLE_POLICY (bench/policy-abi/run does)")
}
var logger = Logger(label: "bench")
logger.logLevel = .error
let loader = PolicyLibraryLoader(services: PluginHostServices(logger: logger), cacheFolder: nil)
let plugins = try loader.load(path: builtIn).policies + loader.load(path: example).policies

/// One configured policy with warm statistics and preallocated buffers.
final class Fixture {
    let policy: ConfiguredPolicy
    var state: [Double]
    var context: [Double]
    var probabilities: [Double]
    var delta: [Double]
    let wantProbabilities: Bool
    var seed: UInt64 = 1

    init(_ plugin: PolicyPlugin, arms: Int, features: Int) throws {
        let names = (0..<arms).map { "arm\($0)" }
        policy = try plugin.configure(PolicyConfiguration(armNames: names, armWeights: names.map { _ in 1 }, contextDimension: features))
        state = try policy.initialState()
        context = (0..<features).map { Double($0 + 1) / Double(features + 1) }
        probabilities = [Double](repeating: 0, count: arms)
        delta = [Double](repeating: 0, count: policy.stateLength)
        // The host asks costly policies for probabilities once per state, not per decision.
        wantProbabilities = !plugin.capabilities.contains(.costlyProbabilities)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let d = try policy.update(state: state, context: context, arm: Int.random(in: 0..<arms, using: &rng),
                                      reward: Double.random(in: 0..<1, using: &rng) < 0.3 ? 1 : 0, propensity: 1.0 / Double(arms), time: 0)
            for i in state.indices { state[i] += d[i] }
        }
    }

    @inline(__always) func choose() throws -> Int {
        seed &+= 0x9e37_79b9_7f4a_7c15
        let want = wantProbabilities
        return try state.withUnsafeBufferPointer { s in
            try context.withUnsafeBufferPointer { c in
                try probabilities.withUnsafeMutableBufferPointer { p in
                    try policy.chooseRaw(state: s, context: c, unitHash: seed, seed: seed, time: 1, probabilities: want ? p.baseAddress : nil)
                }
            }
        }
    }

    @inline(__always) func update(arm: Int) throws {
        try state.withUnsafeBufferPointer { s in
            try context.withUnsafeBufferPointer { c in
                try delta.withUnsafeMutableBufferPointer { d in
                    try policy.updateRaw(state: s, context: c, arm: arm, reward: 1, propensity: 0.1, time: 1, delta: d.baseAddress)
                }
            }
        }
    }
}

for plugin in plugins {
    var shapes: [(arms: Int, features: Int)] = [(10, 0)]
    if plugin.capabilities.contains(.contextual) { shapes = [(5, 10), (10, 10)] }
    for shape in shapes {
        let fixture = try Fixture(plugin, arms: shape.arms, features: shape.features)
        let label = "\(plugin.id) \(shape.arms) arms" + (shape.features > 0 ? " \(shape.features) features" : "")
        benchmark("\(label): choose") {
            var sink = 0
            for _ in 0..<callsPerIteration { sink &+= try fixture.choose() }
            blackHole(sink)
        }
        benchmark("\(label): update") {
            for _ in 0..<callsPerIteration { try fixture.update(arm: 3) }
        }
        benchmark("\(label): choose+update") {
            for _ in 0..<callsPerIteration { try fixture.update(arm: try fixture.choose()) }
        }
    }
}

@inline(never) func blackHole(_ value: Int) {
    if value == .min { print(value) }
}

// The model-backend ABI: one Iris row through the `linear` backend (host-side tensor
// checks, lending and copying plus the C model), when bench/policy-abi/run finds it.
if let linear = environment["SWITCHBOARD_LINEAR_BACKEND"], let iris = environment["SWITCHBOARD_IRIS_MODEL"],
   let backend = try BackendLibraryLoader(services: PluginHostServices(logger: logger)).load(path: linear).first {
    let model = try backend.start().loadModel(folder: iris)
    let row = [Tensor(name: "input", shape: [1, 4], fp32: [6.3, 2.5, 5.0, 1.9])]
    benchmark("linear backend: infer one Iris row") {
        for _ in 0..<callsPerIteration { blackHole(try model.infer(row).count) }
    }
}

Benchmark.main()
