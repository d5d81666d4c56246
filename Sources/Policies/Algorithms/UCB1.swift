import PluginSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UCB1 (Auer, Cesa-Bianchi & Fischer 2002): every arm once, then the arm maximising
/// mean + c·sqrt(ln N / n). Deterministic given the state (ties split evenly).
///
/// Config: `c` > 0 (default √2, the textbook constant for rewards in [0, 1]).
/// State: per arm (rewards counted, reward sum).
public struct UCB1: Policy {
    public static let name = "ucb1"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.threadSafe]
    let arms: Int
    let c: Double

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["c"])
        arms = setup.armCount
        c = try setup.config.positive("c", default: 2.0.squareRoot())
    }

    public var stateLength: Int { 2 * arms }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        let stats = CountSumStats(state: state)
        var total = 0.0
        for i in 0..<arms { total += stats.count(i) }
        let logTotal = log(max(total, 1))
        var rng = SplitMix64(seed: request.seed)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: arms) { index in
            // Each arm's index once: untried arms first (infinite index), then mean + c·sqrt(ln N / n).
            for i in 0..<arms {
                let n = stats.count(i)
                index[i] = n > 0 ? stats.mean(i) + c * (logTotal / n).squareRoot() : .infinity
            }
            let (arm, _, best) = PolicyMath.argmaxBreakingTies(arms, &rng) { index[$0] }
            if let p = probabilities { PolicyMath.uniform(over: arms, into: p) { index[$0] == best } }
            return arm
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        CountSumStats.record(request.reward, arm: request.arm, into: delta)
    }
}
