import Synchronization
import SwitchboardABI

/// A policy configured for one experiment: owns the plugin's config object (destroyed
/// with it) and calls the plugin's functions with host-owned buffers. Calls are
/// serialised unless the policy declares `thread_safe`. Every result is checked (arm in
/// range, probabilities a distribution, deltas finite) before the host uses it.
public final class ConfiguredPolicy: @unchecked Sendable {
    public let plugin: PolicyPlugin
    public let armCount: Int
    public let contextDimension: Int
    public let stateLength: Int
    let config: OpaquePointer
    private let serial = Mutex(())
    private let threadSafe: Bool

    init(plugin: PolicyPlugin, config: OpaquePointer, configuration: PolicyConfiguration) throws(PluginReportedError) {
        self.plugin = plugin
        self.config = config
        self.armCount = configuration.armNames.count
        self.contextDimension = configuration.contextDimension
        self.threadSafe = plugin.capabilities.contains(.threadSafe)
        let length = plugin.table.pointee.state_length(config)
        guard length <= 50_000_000 else {
            plugin.table.pointee.config_destroy(config)
            throw PluginReportedError(code: 4, message: "policy \(plugin.id) declares \(length) state values; the limit is 50,000,000")
        }
        self.stateLength = Int(length)
    }

    deinit { plugin.table.pointee.config_destroy(config) }

    var table: sb_policy { plugin.table.pointee }

    private func serialised<T>(_ body: () throws(PluginReportedError) -> T) throws(PluginReportedError) -> T {
        if threadSafe { return try body() }
        return try serial.withLock { _ throws(PluginReportedError) in try body() }
    }

    private func failure(_ message: String) -> PluginReportedError {
        PluginReportedError(code: 4, message: "policy \(plugin.id) \(message)")
    }

    /// The prior statistics of a new experiment.
    public func initialState() throws(PluginReportedError) -> [Double] {
        var state = [Double](repeating: 0, count: stateLength)
        try state.withUnsafeMutableBufferPointer { s throws(PluginReportedError) in
            try serialised { () throws(PluginReportedError) in
                if let e = PluginHostServices.take(table.state_init(plugin.services.api, config, s.baseAddress, UInt64(stateLength))) { throw e }
            }
        }
        guard state.allSatisfy(\.isFinite) else { throw failure("wrote a non-finite initial state") }
        return state
    }

    /// Chooses an arm. With `probabilities`, also returns every arm's probability.
    public func choose(state: [Double], context: [Double], unitHash: UInt64, seed: UInt64, time: Double,
                       probabilities wantProbabilities: Bool) throws(PluginReportedError) -> PolicyChoice {
        guard state.count == stateLength else { throw failure("needs \(stateLength) state values; the host has \(state.count)") }
        guard context.count == contextDimension else { throw failure("needs \(contextDimension) context values; got \(context.count)") }
        var probabilities = [Double](repeating: 0, count: wantProbabilities ? armCount : 0)
        let arm = try state.withUnsafeBufferPointer { s throws(PluginReportedError) in
            try context.withUnsafeBufferPointer { c throws(PluginReportedError) in
                try probabilities.withUnsafeMutableBufferPointer { p throws(PluginReportedError) in
                    try chooseRaw(state: s, context: c, unitHash: unitHash, seed: seed, time: time, probabilities: wantProbabilities ? p.baseAddress : nil)
                }
            }
        }
        if wantProbabilities { try checkDistribution(probabilities, chosen: arm) }
        return PolicyChoice(arm: arm, probabilities: wantProbabilities ? probabilities : nil)
    }

    /// The same call with caller-owned buffers and no allocation (the hot path and the
    /// benchmarks use it): `state` holds stateLength values, `context` contextDimension,
    /// `probabilities` armCount or is nil. The chosen arm is checked; the probabilities are not.
    public func chooseRaw(state: UnsafeBufferPointer<Double>, context: UnsafeBufferPointer<Double>, unitHash: UInt64, seed: UInt64,
                   time: Double, probabilities: UnsafeMutablePointer<Double>?) throws(PluginReportedError) -> Int {
        var request = sb_choose_request(
            struct_size: UInt32(MemoryLayout<sb_choose_request>.size), arm_count: UInt32(armCount),
            context_dim: UInt32(contextDimension), reserved: 0, context: context.baseAddress,
            unit_hash: unitHash, seed: seed, time: time)
        var choice = sb_choice(struct_size: UInt32(MemoryLayout<sb_choice>.size), arm: UInt32.max, probabilities: probabilities)
        try serialised { () throws(PluginReportedError) in
            if let e = PluginHostServices.take(table.choose(plugin.services.api, config, state.baseAddress, UInt64(stateLength), &request, &choice)) {
                throw e
            }
        }
        guard Int(choice.arm) < armCount else { throw failure("chose arm \(choice.arm), outside 0..<\(armCount)") }
        return Int(choice.arm)
    }

    /// Checks that `p` is a probability distribution that gives the chosen arm positive mass.
    func checkDistribution(_ p: [Double], chosen: Int) throws(PluginReportedError) {
        var total = 0.0
        for (i, v) in p.enumerated() {
            guard v.isFinite, v >= 0 else { throw failure("returned probability \(v) for arm \(i)") }
            total += v
        }
        guard abs(total - 1) < 1e-6 else { throw failure("returned probabilities summing to \(total), not 1") }
        guard p[chosen] > 0 else { throw failure("chose arm \(chosen) but gave it probability 0") }
    }

    /// The additive change of the statistics for one reward.
    public func update(state: [Double], context: [Double], arm: Int, reward: Double, propensity: Double,
                       time: Double) throws(PluginReportedError) -> [Double] {
        guard state.count == stateLength else { throw failure("needs \(stateLength) state values; the host has \(state.count)") }
        guard context.count == contextDimension else { throw failure("needs \(contextDimension) context values; got \(context.count)") }
        var delta = [Double](repeating: 0, count: stateLength)
        try state.withUnsafeBufferPointer { s throws(PluginReportedError) in
            try context.withUnsafeBufferPointer { c throws(PluginReportedError) in
                try delta.withUnsafeMutableBufferPointer { d throws(PluginReportedError) in
                    try updateRaw(state: s, context: c, arm: arm, reward: reward, propensity: propensity, time: time, delta: d.baseAddress)
                }
            }
        }
        guard delta.allSatisfy(\.isFinite) else { throw failure("returned a non-finite delta") }
        return delta
    }

    /// The same call with caller-owned buffers and no allocation: `delta` holds
    /// stateLength zeroed values (not checked for finiteness here).
    public func updateRaw(state: UnsafeBufferPointer<Double>, context: UnsafeBufferPointer<Double>, arm: Int, reward: Double,
                   propensity: Double, time: Double, delta: UnsafeMutablePointer<Double>?) throws(PluginReportedError) {
        var request = sb_update_request(
            struct_size: UInt32(MemoryLayout<sb_update_request>.size), arm_count: UInt32(armCount),
            context_dim: UInt32(contextDimension), arm: UInt32(truncatingIfNeeded: arm), context: context.baseAddress,
            reward: reward, propensity: propensity, time: time)
        try serialised { () throws(PluginReportedError) in
            if let e = PluginHostServices.take(table.update(plugin.services.api, config, state.baseAddress, UInt64(stateLength), &request, delta)) {
                throw e
            }
        }
    }

    /// Ensembles: up to `maxArms` arms with weights summing to 1.
    public func chooseSet(state: [Double], context: [Double], unitHash: UInt64, seed: UInt64, time: Double,
                          maxArms: Int) throws(PluginReportedError) -> [(arm: Int, weight: Double)] {
        guard let chooseSet = table.choose_set else { throw failure("is not an ensemble policy") }
        guard state.count == stateLength, context.count == contextDimension, maxArms >= 1 else {
            throw failure("choose_set called with the wrong state, context or max_arms")
        }
        var arms = [UInt32](repeating: 0, count: maxArms)
        var weights = [Double](repeating: 0, count: maxArms)
        var count: UInt32 = 0
        try state.withUnsafeBufferPointer { s throws(PluginReportedError) in
            try context.withUnsafeBufferPointer { c throws(PluginReportedError) in
                var request = sb_choose_request(
                    struct_size: UInt32(MemoryLayout<sb_choose_request>.size), arm_count: UInt32(armCount),
                    context_dim: UInt32(contextDimension), reserved: 0, context: c.baseAddress,
                    unit_hash: unitHash, seed: seed, time: time)
                try serialised { () throws(PluginReportedError) in
                    if let e = PluginHostServices.take(chooseSet(plugin.services.api, config, s.baseAddress, UInt64(stateLength), &request,
                                                                 UInt32(maxArms), &arms, &weights, &count)) {
                        throw e
                    }
                }
            }
        }
        guard (1...maxArms).contains(Int(count)) else { throw failure("chose \(count) arms; expected 1 to \(maxArms)") }
        let set = (0..<Int(count)).map { (arm: Int(arms[$0]), weight: weights[$0]) }
        guard set.allSatisfy({ $0.arm < armCount && $0.weight.isFinite && $0.weight >= 0 }),
              abs(set.reduce(0) { $0 + $1.weight } - 1) < 1e-6 else {
            throw failure("chose an arm out of range or weights that do not sum to 1")
        }
        return set
    }

    /// Ensembles: combines equally long outputs with weights.
    public func combine(outputs: [[Double]], weights: [Double]) throws(PluginReportedError) -> [Double] {
        guard let combine = table.combine else { throw failure("is not an ensemble policy") }
        guard let length = outputs.first?.count, outputs.allSatisfy({ $0.count == length }), outputs.count == weights.count else {
            throw failure("combine needs equally long outputs and one weight per output")
        }
        var out = [Double](repeating: 0, count: length)
        let copies = outputs.map { o -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(o.count, 1))
            p.initialize(from: o, count: o.count)
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<Double>?] = copies.map { UnsafePointer($0) }
        try serialised { () throws(PluginReportedError) in
            if let e = PluginHostServices.take(combine(plugin.services.api, config, UInt32(outputs.count), pointers, weights, UInt64(length), &out)) {
                throw e
            }
        }
        guard out.allSatisfy(\.isFinite) else { throw failure("combined the outputs into non-finite values") }
        return out
    }
}

/// The answer of `choose`.
public struct PolicyChoice: Sendable, Equatable {
    public var arm: Int
    /// Every arm's probability, when asked for.
    public var probabilities: [Double]?
}
