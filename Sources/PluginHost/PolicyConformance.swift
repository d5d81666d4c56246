import PluginSupport

/// The conformance run of `switchboard plugin check`: randomized calls that every policy
/// of a library must survive with sane answers. It calls the plugin's functions directly
/// with host buffers guarded by sentinel values, so writes past a buffer are caught.
public struct PolicyConformance {
    /// One check's outcome.
    public struct Result: Sendable, CustomStringConvertible {
        public var policy: String
        public var check: String
        public var passed: Bool
        public var detail: String
        public var description: String {
            "\(passed ? "PASS" : "FAIL") \(policy): \(check)\(detail.isEmpty ? "" : " — \(detail)")"
        }
    }

    public var arms = 10
    public var contextDimension = 5
    public var rounds = 400
    public var seed: UInt64 = 42

    public init() {}

    static let sentinel = -7.777e300

    /// Runs every check on `policy`, reporting each result as it is known (so a crash
    /// shows which check was running).
    public func run(_ policy: PolicyPlugin, configJSON: String = "{}", report: (Result) -> Void) {
        let id = policy.id
        func result(_ check: String, _ error: String?) {
            report(Result(policy: id, check: check, passed: error == nil, detail: error ?? ""))
        }
        let contextual = policy.capabilities.contains(.contextual)
        let dimension = contextual ? contextDimension : 0
        let names = (0..<arms).map { "arm\($0)" }
        let configuration = PolicyConfiguration(armNames: names, armWeights: (0..<arms).map { Double($0 + 1) },
                                                contextDimension: dimension, configJSON: configJSON)

        // 1. Configuration.
        let configured: ConfiguredPolicy
        do {
            configured = try policy.configure(configuration)
            result("accepts the config \(configJSON) with \(arms) arms\(contextual ? " and \(dimension) context features" : "")", nil)
        } catch {
            result("accepts the config \(configJSON)", error.message)
            return
        }
        do {
            _ = try policy.configure(PolicyConfiguration(armNames: names, armWeights: configuration.armWeights,
                                                         contextDimension: dimension, configJSON: "{not json"))
            result("refuses malformed JSON config with an error", "it accepted '{not json'")
        } catch {
            result("refuses malformed JSON config with an error", error.message.isEmpty ? "the error has no message" : nil)
        }

        // 2. State.
        var state: [Double]
        do {
            state = try configured.initialState()
            result("declares \(configured.stateLength) state values and a finite prior", nil)
        } catch {
            result("writes a finite prior state", error.message)
            return
        }

        // 3. Randomized choose / update rounds on an evolving state.
        var rng = SplitMix64(seed: seed)
        var failures: [String: String] = [:]
        func note(_ key: String, _ message: String) {
            if failures[key] == nil { failures[key] = message }  // keep the first failure of each kind
        }
        var costlyRounds = 0
        for round in 0..<rounds {
            let context = (0..<dimension).map { _ in rng.nextUnit() * 2 - 1 }
            let decisionSeed = rng.next()
            let unitHash = rng.next()
            let time = Double(round)
            let wantProbabilities = !policy.capabilities.contains(.costlyProbabilities) || round % 20 == 0
            if wantProbabilities { costlyRounds += 1 }
            do {
                let first = try guardedChoose(configured, state: state, context: context, unitHash: unitHash, seed: decisionSeed,
                                              time: time, probabilities: wantProbabilities)
                if let message = first.problem { note("choose", "round \(round): \(message)") }
                let again = try guardedChoose(configured, state: state, context: context, unitHash: unitHash, seed: decisionSeed,
                                              time: time, probabilities: wantProbabilities)
                if again.arm != first.arm || again.probabilities != first.probabilities {
                    note("determinism", "round \(round): the same seed gave arm \(first.arm), then \(again.arm)")
                }
                if policy.capabilities.contains(.unitDeterministic) {
                    let other = try guardedChoose(configured, state: state, context: context, unitHash: unitHash, seed: rng.next(),
                                                  time: time + 1, probabilities: false)
                    if other.arm != first.arm {
                        note("unit", "round \(round): declares unit_deterministic, but another seed and time gave arm \(other.arm), not \(first.arm)")
                    }
                }
                let reward = rng.nextUnit() < 0.3 ? 1.0 : 0.0
                let propensity = first.probabilities?[first.arm] ?? 1.0 / Double(arms)
                let (delta, problem) = try guardedUpdate(configured, state: state, context: context, arm: first.arm,
                                                          reward: reward, propensity: max(propensity, 1e-6), time: time)
                if let problem { note("update", "round \(round): \(problem)") }
                for i in state.indices { state[i] += delta[i] }
            } catch {
                note("errors", "round \(round): \(error.message)")
            }
        }
        result("\(rounds) decisions: chosen arm in range; probabilities finite, non-negative, summing to 1, positive for the chosen arm (checked on \(costlyRounds))",
               failures["choose"])
        result("the same seed, state and context give the same decision", failures["determinism"])
        if policy.capabilities.contains(.unitDeterministic) {
            result("a unit gets the same arm whatever the seed and time (unit_deterministic)", failures["unit"])
        }
        result("deltas are finite, leave the state untouched and stay within the declared \(configured.stateLength) values", failures["update"])
        result("no call on valid input returned an error", failures["errors"])
        result("the state stays finite after \(rounds) updates", state.allSatisfy(\.isFinite) ? nil : "a state value is not finite")

        // 4. Bad input is refused with an error, not a crash.
        do {
            var delta = [Double](repeating: 0, count: configured.stateLength)
            try state.withUnsafeBufferPointer { s throws(PluginReportedError) in
                try [Double](repeating: 0, count: dimension).withUnsafeBufferPointer { c throws(PluginReportedError) in
                    try delta.withUnsafeMutableBufferPointer { d throws(PluginReportedError) in
                        try configured.updateRaw(state: s, context: c, arm: arms + 3, reward: 1, propensity: 0.5, time: 0, delta: d.baseAddress)
                    }
                }
            }
            result("refuses an update for an arm out of range", "it accepted arm \(arms + 3)")
        } catch {
            result("refuses an update for an arm out of range", nil)
        }

        // 5. Ensembles.
        if policy.capabilities.contains(.ensemble) {
            do {
                let set = try configured.chooseSet(state: state, context: [Double](repeating: 0.5, count: dimension), unitHash: 1, seed: 7,
                                                   time: 0, maxArms: 3)
                let combined = try configured.combine(outputs: set.map { s in (0..<4).map { Double($0 + s.arm) / 10 } },
                                                      weights: set.map(\.weight))
                result("choose_set returns 1-3 arms with weights summing to 1, and combine returns finite outputs",
                       combined.count == 4 ? nil : "combine returned \(combined.count) values for 4")
            } catch {
                result("choose_set and combine work", error.message)
            }
        }
    }

    struct Guarded {
        var arm: Int
        var probabilities: [Double]?
        var problem: String?
    }

    func guardedChoose(_ p: ConfiguredPolicy, state: [Double], context: [Double], unitHash: UInt64, seed: UInt64, time: Double,
                       probabilities wantProbabilities: Bool) throws(PluginReportedError) -> Guarded {
        let original = state
        var stateBuffer = state + [Self.sentinel]
        var contextBuffer = context + [Self.sentinel]
        var probabilityBuffer = [Double](repeating: Self.sentinel, count: arms + 2)
        let arm = try stateBuffer.withUnsafeBufferPointer { s throws(PluginReportedError) in
            try contextBuffer.withUnsafeBufferPointer { c throws(PluginReportedError) in
                try probabilityBuffer.withUnsafeMutableBufferPointer { out throws(PluginReportedError) in
                    try p.chooseRaw(state: UnsafeBufferPointer(rebasing: s[0..<original.count]),
                                    context: UnsafeBufferPointer(rebasing: c[0..<context.count]), unitHash: unitHash, seed: seed,
                                    time: time, probabilities: wantProbabilities ? out.baseAddress : nil)
                }
            }
        }
        _ = (stateBuffer.removeLast(), contextBuffer.removeLast())
        if stateBuffer != original { return Guarded(arm: arm, problem: "choose modified the state") }
        guard probabilityBuffer[arms] == Self.sentinel, probabilityBuffer[arms + 1] == Self.sentinel else {
            return Guarded(arm: arm, problem: "choose wrote past the \(arms) probabilities")
        }
        guard wantProbabilities else { return Guarded(arm: arm) }
        let probabilities = Array(probabilityBuffer[0..<arms])
        do {
            try p.checkDistribution(probabilities, chosen: arm)
        } catch {
            return Guarded(arm: arm, probabilities: probabilities, problem: error.message)
        }
        return Guarded(arm: arm, probabilities: probabilities)
    }

    func guardedUpdate(_ p: ConfiguredPolicy, state: [Double], context: [Double], arm: Int, reward: Double, propensity: Double,
                       time: Double) throws(PluginReportedError) -> ([Double], String?) {
        let length = p.stateLength
        var delta = [Double](repeating: 0, count: length) + [Self.sentinel, Self.sentinel]
        let stateCopy = state
        try state.withUnsafeBufferPointer { s throws(PluginReportedError) in
            try context.withUnsafeBufferPointer { c throws(PluginReportedError) in
                try delta.withUnsafeMutableBufferPointer { d throws(PluginReportedError) in
                    try p.updateRaw(state: s, context: c, arm: arm, reward: reward, propensity: propensity, time: time, delta: d.baseAddress)
                }
            }
        }
        if delta[length] != Self.sentinel || delta[length + 1] != Self.sentinel {
            return ([Double](repeating: 0, count: length), "update wrote past the \(length) state values")
        }
        let values = Array(delta[0..<length])
        if state != stateCopy { return (values, "update modified the state") }
        if !values.allSatisfy(\.isFinite) { return ([Double](repeating: 0, count: length), "update returned a non-finite delta") }
        return (values, nil)
    }
}
