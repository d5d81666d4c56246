import Foundation

/// Time-ordered decision identifiers (UUID version 7, RFC 9562): 48 bits of Unix
/// milliseconds, then random bits. Sorting ids sorts decisions by creation time, and
/// PostgreSQL's B-tree index on them stays append-mostly.
public enum DecisionID {
    /// A new UUIDv7 for the current time.
    public static func make(now: Date = Date()) -> UUID {
        make(milliseconds: UInt64(now.timeIntervalSince1970 * 1000), random: RandomWords.next(), RandomWords.next())
    }

    /// When a UUIDv7 was made (its 48-bit millisecond timestamp).
    public static func timestamp(of id: UUID) -> Date {
        let b = id.uuid
        let ms = [b.0, b.1, b.2, b.3, b.4, b.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// A UUIDv7 from its parts (tests use this for fixed values).
    public static func make(milliseconds: UInt64, random a: UInt64, _ b: UInt64) -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - i))) }
        for i in 6..<16 { bytes[i] = UInt8(truncatingIfNeeded: (i < 11 ? a : b) >> (8 * (i % 8))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0f)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3f)  // RFC 9562 variant
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
