#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random variates drawn from a seeded generator (pure functions of the generator state).
public enum Distributions {
    /// A standard normal variate (Marsaglia's polar method; the second value is discarded
    /// so each call consumes a predictable amount of randomness per accepted pair).
    @inlinable
    public static func normal(_ rng: inout SplitMix64) -> Double {
        while true {
            let u = 2 * rng.nextUnit() - 1
            let v = 2 * rng.nextUnit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// A Gamma(shape, 1) variate, shape > 0 (Marsaglia & Tsang 2000; boosted for shape < 1).
    @inlinable
    public static func gamma(shape: Double, _ rng: inout SplitMix64) -> Double {
        if shape < 1 {
            return gamma(shape: shape + 1, &rng) * pow(rng.nextUnit(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal(&rng)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextUnit()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if log(u) < 0.5 * x2 + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(a, b) variate, a, b > 0.
    @inlinable
    public static func beta(_ a: Double, _ b: Double, _ rng: inout SplitMix64) -> Double {
        let x = gamma(shape: a, &rng)
        let y = gamma(shape: b, &rng)
        return x / (x + y)
    }

    /// A uniform integer in `0..<n`, n > 0 (Lemire's multiply-shift; bias < n / 2^64).
    @inlinable
    public static func index(_ n: Int, _ rng: inout SplitMix64) -> Int {
        Int(rng.next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// An index drawn with the given probabilities (which sum to 1).
    @inlinable
    public static func categorical(_ probabilities: UnsafeBufferPointer<Double>, _ rng: inout SplitMix64) -> Int {
        let u = rng.nextUnit()
        var cumulative = 0.0
        for i in probabilities.indices {
            cumulative += probabilities[i]
            if u < cumulative { return i }
        }
        // Rounding left u above the last partial sum: return the last arm with mass.
        return probabilities.lastIndex { $0 > 0 } ?? probabilities.count - 1
    }
}
