/// A stable, versioned 64-bit hash for bucketing units into arms.
///
/// The value of a hash must never change for a given `version`, on any platform or
/// Swift release: it decides which variant a user sees on every replica. So we do not
/// use `Hasher` (randomly seeded per process) and spell the algorithm out here:
/// version 1 is FNV-1a over the UTF-8 bytes followed by the MurmurHash3 `fmix64`
/// finaliser, which gives good avalanche for short keys such as user ids.
public enum StableHash {
    /// The hash versions this build understands. Stored with each experiment.
    public static let supportedVersions: ClosedRange<Int> = 1...1

    /// FNV-1a (64-bit) of `bytes`, continuing from `seed`.
    @inlinable
    public static func fnv1a<S: Sequence>(_ bytes: S, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
    where S.Element == UInt8 {
        var h = seed
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        return h
    }

    /// MurmurHash3's 64-bit finaliser: a bijection that mixes every input bit into every output bit.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    /// Version 1 hash of a unit within a salted experiment. The separator byte keeps
    /// `("ab", "c")` and `("a", "bc")` apart.
    @inlinable
    public static func unitHash(salt: String, unit: String) -> UInt64 {
        var h = fnv1a(salt.utf8)
        h = fnv1a(CollectionOfOne(0), seed: h)
        h = fnv1a(unit.utf8, seed: h)
        return mix(h)
    }

    /// Maps a 64-bit hash to a uniform double in the open interval (0, 1).
    @inlinable
    public static func unitInterval(_ h: UInt64) -> Double {
        // 52 random bits, shifted by half a step so that neither 0 nor 1 is produced
        // (with 53 bits the largest value would round up to 1.0).
        (Double(h >> 12) + 0.5) * 0x1.0p-52
    }
}
