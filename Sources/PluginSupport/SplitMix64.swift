/// A small, fast, seedable random number generator (SplitMix64, Steele et al. 2014).
///
/// Policies draw all their randomness from one of these, seeded with the host-supplied
/// per-decision seed, so a decision can be recomputed exactly from its logged seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform double in the open interval (0, 1).
    @inlinable
    public mutating func nextUnit() -> Double {
        StableHash.unitInterval(next())
    }
}
