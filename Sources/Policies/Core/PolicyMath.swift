import PluginSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small numeric helpers shared by the policies.
enum PolicyMath {
    /// Writes uniform probabilities over the arms where `isMember` holds (at least one).
    static func uniform(over count: Int, into p: UnsafeMutableBufferPointer<Double>, where isMember: (Int) -> Bool) {
        var members = 0
        for i in 0..<count where isMember(i) { members += 1 }
        let share = 1 / Double(members)
        for i in 0..<count { p[i] = isMember(i) ? share : 0 }
    }

    /// The arms whose `score` is maximal (exact ties), picked uniformly by `rng`.
    static func argmaxBreakingTies(_ count: Int, _ rng: inout SplitMix64, score: (Int) -> Double) -> (arm: Int, ties: Int, best: Double) {
        var best = -Double.infinity
        var ties = 0
        var chosen = 0
        for i in 0..<count {
            let s = score(i)
            if s > best {
                best = s
                ties = 1
                chosen = i
            } else if s == best {
                ties += 1
                // Reservoir sampling keeps each tied arm with probability 1/ties.
                if Distributions.index(ties, &rng) == 0 { chosen = i }
            }
        }
        return (chosen, ties, best)
    }

    /// Writes softmax(scores / temperature) into `p`, stable for large scores.
    static func softmax(_ count: Int, temperature: Double, into p: UnsafeMutableBufferPointer<Double>, score: (Int) -> Double) {
        var maxScore = -Double.infinity
        for i in 0..<count { maxScore = max(maxScore, score(i)) }
        var total = 0.0
        for i in 0..<count {
            let e = exp((score(i) - maxScore) / temperature)
            p[i] = e
            total += e
        }
        for i in 0..<count { p[i] /= total }
    }

    /// Checks that every value is finite, for results computed from host-supplied state.
    static func requireFinite(_ values: UnsafeBufferPointer<Double>, _ what: String) throws(PolicyError) {
        for v in values where !v.isFinite { throw PolicyError(.numeric, "\(what) contains a non-finite value") }
    }
}

/// Per-arm (count, sum) statistics laid out as `[n0, s0, n1, s1, ...]`.
struct CountSumStats {
    let state: UnsafeBufferPointer<Double>
    @inline(__always) func count(_ arm: Int) -> Double { state[2 * arm] }
    @inline(__always) func sum(_ arm: Int) -> Double { state[2 * arm + 1] }
    @inline(__always) func mean(_ arm: Int) -> Double { count(arm) > 0 ? sum(arm) / count(arm) : 0 }

    /// Adds one observation of `reward` for `arm` to `delta`.
    static func record(_ reward: Double, arm: Int, into delta: UnsafeMutableBufferPointer<Double>) {
        delta[2 * arm] = 1
        delta[2 * arm + 1] = reward
    }
}

/// The arm whose draw from `sample` is largest (one draw per arm, in arm order).
@inline(__always)
func sampledArgmax(arms: Int, _ rng: inout SplitMix64, sample: (Int, inout SplitMix64) -> Double) -> Int {
    var best = 0
    var bestValue = -Double.infinity
    for i in 0..<arms {
        let v = sample(i, &rng)
        if v > bestValue {
            bestValue = v
            best = i
        }
    }
    return best
}

/// Monte Carlo estimate of P(arm wins) for sampling policies: `draws` rounds of `sampleArm`,
/// smoothed so that every arm keeps a probability of at least 1 / (K (draws + 1)).
func estimateWinProbabilities(arms: Int, draws: Int, seed: UInt64, into p: UnsafeMutableBufferPointer<Double>,
                              sample: (Int, inout SplitMix64) -> Double) {
    var rng = SplitMix64(seed: seed ^ 0x5bd1_e995_5bd1_e995)
    for i in 0..<arms { p[i] = 1 / Double(arms) }
    for _ in 0..<draws {
        p[sampledArgmax(arms: arms, &rng, sample: sample)] += 1
    }
    let total = Double(draws + 1)
    for i in 0..<arms { p[i] /= total }
}

/// The sampling policies' choose: one draw per arm from `sample`, the largest wins, and
/// (when asked) Monte Carlo estimates of every arm's probability of winning.
func chooseBySampling(arms: Int, seed: UInt64, samples: Int, probabilities: UnsafeMutableBufferPointer<Double>?,
                      sample: (Int, inout SplitMix64) -> Double) -> Int {
    var rng = SplitMix64(seed: seed)
    let best = sampledArgmax(arms: arms, &rng, sample: sample)
    if let p = probabilities {
        estimateWinProbabilities(arms: arms, draws: samples, seed: seed, into: p, sample: sample)
    }
    return best
}
