@testable import Policies
import PluginSupport
import Testing

/// Calls a policy with arrays, as the host would through the ABI.
struct Harness<P: Policy> {
    let policy: P
    var state: [Double]

    func choose(seed: UInt64 = 1, unitHash: UInt64 = 0, context: [Double] = [], time: Double = 0) throws -> (arm: Int, p: [Double]) {
        var p = [Double](repeating: -1, count: 64)
        let arm = try state.withUnsafeBufferPointer { s in
            try context.withUnsafeBufferPointer { c in
                try p.withUnsafeMutableBufferPointer { out in
                    try policy.choose(state: s, request: ChooseRequest(context: c, unitHash: unitHash, seed: seed, time: time),
                                      probabilities: UnsafeMutableBufferPointer(rebasing: out[0..<armCount]))
                }
            }
        }
        return (arm, Array(p[0..<armCount]))
    }

    let armCount: Int

    init(_ policy: P, arms: Int) {
        self.policy = policy
        self.armCount = arms
        state = [Double](repeating: 0, count: policy.stateLength)
        state.withUnsafeMutableBufferPointer { policy.initialize(state: $0) }
    }

    func delta(arm: Int, reward: Double, propensity: Double = 1, context: [Double] = [], time: Double = 0) throws -> [Double] {
        var d = [Double](repeating: 0, count: policy.stateLength)
        try state.withUnsafeBufferPointer { s in
            try context.withUnsafeBufferPointer { c in
                try d.withUnsafeMutableBufferPointer { out in
                    try policy.update(state: s, request: UpdateRequest(arm: arm, context: c, reward: reward, propensity: propensity, time: time), delta: out)
                }
            }
        }
        return d
    }

    mutating func learn(arm: Int, reward: Double, propensity: Double = 1, context: [Double] = [], time: Double = 0) throws {
        let d = try delta(arm: arm, reward: reward, propensity: propensity, context: context, time: time)
        for i in state.indices { state[i] += d[i] }
    }
}

@Suite("Policy behaviour")
struct PolicyBehaviourTests {
    @Test("epsilon-greedy: probabilities are ε/K plus (1−ε) shared by the best arms; untried arms count as best")
    func epsilonGreedy() throws {
        var h = Harness(try EpsilonGreedy(setup: .arms(4, ["epsilon": .number(0.2)])), arms: 4)
        #expect(try h.choose().p == [0.25, 0.25, 0.25, 0.25])
        for arm in 0..<4 { try h.learn(arm: arm, reward: arm == 2 ? 1 : 0) }
        let p = try h.choose().p
        #expect(abs(p[2] - (0.05 + 0.8)) < 1e-12)
        #expect(abs(p[0] - 0.05) < 1e-12)
        #expect(h.state == [1, 0, 1, 0, 1, 1, 1, 0])
    }

    @Test("UCB1 tries every arm once, then follows mean + c·sqrt(ln N / n)")
    func ucb1() throws {
        var h = Harness(try UCB1(setup: .arms(3)), arms: 3)
        try h.learn(arm: 0, reward: 1)
        let first = try h.choose()
        #expect(first.arm != 0)
        #expect(first.p == [0, 0.5, 0.5])
        try h.learn(arm: 1, reward: 0)
        try h.learn(arm: 2, reward: 0)
        for _ in 0..<20 { try h.learn(arm: 0, reward: 1) }  // arm 0: 21 pulls, mean 1
        // Indexes: arm0 = 1 + √2·sqrt(ln 23 / 21); arms 1, 2 = 0 + √2·sqrt(ln 23 / 1) ≈ 2.50 > 1.43.
        let c = try h.choose()
        #expect(c.arm == 1 || c.arm == 2)
        #expect(c.p == [0, 0.5, 0.5])
    }

    @Test("Exp3 adds γ·(r/p)/K to the chosen arm's log-weight, and mixes in γ/K exploration")
    func exp3() throws {
        let h = Harness(try Exp3(setup: .arms(4, ["gamma": .number(0.2)])), arms: 4)
        #expect(try h.delta(arm: 1, reward: 0.5, propensity: 0.25) == [0, 0.2 * (0.5 / 0.25) / 4, 0, 0])
        #expect(throws: PolicyError.self) { try h.delta(arm: 1, reward: 2, propensity: 0.25) }
        var learned = h
        try learned.learn(arm: 1, reward: 1, propensity: 0.25)
        let p = try learned.choose().p
        #expect(p.allSatisfy { $0 >= 0.2 / 4 - 1e-15 })
        #expect(p[1] > p[0])
        #expect(abs(p.reduce(0, +) - 1) < 1e-12)
    }

    @Test("Thompson: fractional rewards add r successes and 1−r failures; a dominant arm gets nearly all probability")
    func thompson() throws {
        var h = Harness(try ThompsonBernoulli(setup: .arms(3, ["samples": .number(2000)])), arms: 3)
        #expect(try h.delta(arm: 2, reward: 0.25) == [0, 0, 0, 0, 0.25, 0.75])
        for _ in 0..<200 { try h.learn(arm: 1, reward: 1); try h.learn(arm: 0, reward: 0); try h.learn(arm: 2, reward: 0) }
        let (arm, p) = try h.choose(seed: 9)
        #expect(arm == 1)
        #expect(p[1] > 0.99)
        #expect(p.allSatisfy { $0 > 0 })  // smoothing keeps every arm possible
        #expect(abs(p.reduce(0, +) - 1) < 1e-12)
    }

    @Test("LinUCB's mean estimate equals ridge regression computed independently")
    func linUCBMatchesRidge() throws {
        // One arm, two features, no intercept, alpha tiny: the score is θᵀx with θ = (λI + XᵀX)⁻¹ Xᵀr.
        var h = Harness(try LinUCB(setup: .arms(1, contextDimension: 2, ["alpha": .number(1e-9), "intercept": .bool(false)])), arms: 1)
        let data: [([Double], Double)] = [([1, 0], 1), ([0, 1], 0), ([1, 1], 1), ([2, 1], 1)]
        for (x, r) in data { try h.learn(arm: 0, reward: r, context: x) }
        // A = I + Σ x xᵀ = [[7, 3], [3, 4]], b = Σ r x = [4, 2]; θ = A⁻¹ b = [10, 2] / 19.
        #expect(h.state == [7, 3, 3, 4, 4, 2])
        let theta = [10.0 / 19, 2.0 / 19]
        let probe = [0.5, 2.0]
        let policy = h.policy
        let score = try h.state.withUnsafeBufferPointer { s in
            try withUnsafeTemporaryAllocation(of: Double.self, capacity: 2) { x in
                x[0] = probe[0]; x[1] = probe[1]
                return try withUnsafeTemporaryAllocation(of: Double.self, capacity: 8) { scratch in
                    try policy.score(s, arm: 0, x: x, scratch: scratch)
                }
            }
        }
        #expect(abs(score - (theta[0] * probe[0] + theta[1] * probe[1])) < 1e-6)
    }

    @Test("the ensemble combines by mean, weighted mean and majority vote")
    func ensembleCombine() throws {
        func combine(_ method: String, _ outputs: [[Double]], _ weights: [Double]) throws -> [Double] {
            let e = try ThompsonEnsemble(setup: .arms(3, ["combine": .string(method)]))
            var out = [Double](repeating: 0, count: outputs[0].count)
            let copies = outputs.map { o in UnsafeMutableBufferPointer<Double>.allocate(capacity: o.count) }
            defer { copies.forEach { $0.deallocate() } }
            for (c, o) in zip(copies, outputs) { _ = c.initialize(from: o) }
            try out.withUnsafeMutableBufferPointer { try e.combine(outputs: copies.map { UnsafeBufferPointer($0) }, weights: weights, into: $0) }
            return out
        }
        let outputs = [[0.1, 0.9], [0.6, 0.4], [0.7, 0.3]]
        let mean = try combine("mean", outputs, [0.5, 0.25, 0.25])
        #expect(zip(mean, [1.4 / 3, 1.6 / 3]).allSatisfy { abs($0 - $1) < 1e-12 })
        let weighted = try combine("weighted_mean", outputs, [0.5, 0.25, 0.25])
        #expect(zip(weighted, [0.05 + 0.15 + 0.175, 0.45 + 0.1 + 0.075]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(try combine("majority", outputs, [0.5, 0.25, 0.25]) == [2.0 / 3, 1.0 / 3])
    }

    @Test("the ensemble's set has k arms whose weights sum to 1")
    func ensembleSet() throws {
        let e = try ThompsonEnsemble(setup: .arms(5, ["k": .number(3)]))
        let state = [Double](repeating: 1, count: e.stateLength)
        let set = try state.withUnsafeBufferPointer { try e.chooseSet(state: $0, request: ChooseRequest(seed: 4), maxArms: 5) }
        #expect(set.count == 3)
        #expect(Set(set.map(\.arm)).count == 3)
        #expect(abs(set.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
    }

    @Test("the weighted split in the plugin gives the same arm as the split computed from (salt, unit)")
    func weightedSplitMatchesHash() throws {
        let arms = [("control", 1.0), ("green", 2.0), ("blue", 1.0)]
        let plugin = try WeightedSplit(setup: PolicySetup(armNames: arms.map(\.0), armWeights: arms.map(\.1)))
        let direct = try WeightedHashSplit(salt: "s", arms: arms.map { .init(name: $0.0, weight: $0.1) })
        let h = Harness(plugin, arms: 3)
        for i in 0..<500 {
            let unit = "user-\(i)"
            let viaPlugin = try h.choose(seed: UInt64(i), unitHash: StableHash.unitHash(salt: "s", unit: unit))
            #expect(viaPlugin.arm == direct.assign(unit: unit).arm)
            #expect(viaPlugin.p == [0.25, 0.5, 0.25])
        }
    }

    @Test("configs are checked: unknown keys, wrong types and out-of-range values are refused with the reason")
    func configErrors() {
        #expect(throws: PolicyError(.invalidConfig, "unknown config key 'epsilonn'; allowed: c, epsilon, schedule")) {
            try EpsilonGreedy(setup: .arms(2, ["epsilonn": .number(0.1)]))
        }
        #expect(throws: PolicyError(.invalidConfig, "'epsilon' must be between 0.0 and 1.0; got 1.5")) {
            try EpsilonGreedy(setup: .arms(2, ["epsilon": .number(1.5)]))
        }
        #expect(throws: PolicyError(.invalidConfig, "'schedule' must be one of \"fixed\", \"decaying\"")) {
            try EpsilonGreedy(setup: .arms(2, ["schedule": .string("sometimes")]))
        }
        #expect(throws: PolicyError(.invalidConfig, "linucb is contextual: declare context_features on the experiment")) {
            try LinUCB(setup: .arms(2))
        }
        #expect(throws: PolicyError(.invalidConfig, "the policy config must be a JSON object")) { try PolicyConfig(json: "[1]") }
        #expect(throws: PolicyError(.invalidConfig, "the policy config is not valid JSON")) { try PolicyConfig(json: "{nope") }
    }

    @Test("Beta and Gamma draws have the right mean and variance")
    func distributions() {
        var rng = SplitMix64(seed: 99)
        let n = 200_000
        let draws = (0..<n).map { _ in Distributions.beta(2, 5, &rng) }
        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        #expect(abs(mean - 2.0 / 7) < 0.003)
        #expect(abs(variance - (2 * 5) / (49.0 * 8)) < 0.001)
        let small = (0..<n).map { _ in Distributions.gamma(shape: 0.5, &rng) }.reduce(0, +) / Double(n)
        #expect(abs(small - 0.5) < 0.01)
    }
}
