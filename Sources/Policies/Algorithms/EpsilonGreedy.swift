import PluginSupport

/// Epsilon-greedy: with probability ε a uniformly random arm, otherwise the arm with the
/// best mean reward (untried arms count as best, ties split evenly).
///
/// Config: `epsilon` (0...1, default 0.1); `schedule` "fixed" (default) or "decaying",
/// where ε_t = min(1, c·K / t) after t rewards (Auer et al. 2002), with `c` > 0 (default 5).
/// State: per arm (rewards counted, reward sum).
public struct EpsilonGreedy: Policy {
    public static let name = "epsilon-greedy"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe]
    let arms: Int
    let epsilon: Double
    let decaying: Bool
    let c: Double

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["epsilon", "schedule", "c"])
        arms = setup.armCount
        epsilon = try setup.config.number("epsilon", default: 0.1, in: 0...1)
        decaying = try setup.config.choice("schedule", default: "fixed", in: ["fixed", "decaying"]) == "decaying"
        c = try setup.config.positive("c", default: 5)
    }

    public var stateLength: Int { 2 * arms }

    func currentEpsilon(_ stats: CountSumStats) -> Double {
        guard decaying else { return epsilon }
        var total = 0.0
        for i in 0..<arms { total += stats.count(i) }
        return min(1, c * Double(arms) / (total + 1))
    }

    @inline(__always) func greedyScore(_ stats: CountSumStats, _ i: Int) -> Double {
        stats.count(i) > 0 ? stats.mean(i) : .infinity
    }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        let stats = CountSumStats(state: state)
        let eps = currentEpsilon(stats)
        var rng = SplitMix64(seed: request.seed)
        let explore = rng.nextUnit() < eps
        let (greedy, ties, best) = PolicyMath.argmaxBreakingTies(arms, &rng) { greedyScore(stats, $0) }
        if let p = probabilities {
            for i in 0..<arms {
                p[i] = eps / Double(arms) + (greedyScore(stats, i) == best ? (1 - eps) / Double(ties) : 0)
            }
        }
        return explore ? Distributions.index(arms, &rng) : greedy
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        CountSumStats.record(request.reward, arm: request.arm, into: delta)
    }
}
