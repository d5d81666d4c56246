import Crypto
import Foundation

/// Time-ordered decision identifiers (UUID version 7, RFC 9562): 48 bits of Unix
/// milliseconds, then random bits. Sorting ids sorts decisions by creation time, and
/// PostgreSQL's B-tree index on them stays append-mostly.
public enum DecisionID {
    /// A new UUIDv7 for the current time.
    public static func make(now: Date = Date()) -> UUID {
        make(milliseconds: UInt64(now.timeIntervalSince1970 * 1000), random: RandomWords.next(), RandomWords.next())
    }

    /// The one id of the decision a stream entry asks for: a UUIDv7 whose time is the entry's
    /// and whose other bits are a digest of the stream and entry id, so a redelivered entry
    /// names the same decision (`StreamConsumer`). Nil for an id that is not `ms-seq`.
    public static func derived(stream: String, entry: String) -> UUID? {
        let parts = entry.split(separator: "-")
        guard parts.count == 2, let ms = UInt64(parts[0]), UInt64(parts[1]) != nil else { return nil }
        let digest = Array(SHA256.hash(data: Data("\(stream)\u{0}\(entry)".utf8)))
        let a = digest[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, b = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return make(milliseconds: ms, random: a, b)
    }

    /// When a UUIDv7 was made (its 48-bit millisecond timestamp).
    public static func timestamp(of id: UUID) -> Date {
        let b = id.uuid
        let ms = [b.0, b.1, b.2, b.3, b.4, b.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// A UUIDv7 from its parts (tests use this for fixed values).
    public static func make(milliseconds: UInt64, random a: UInt64, _ b: UInt64) -> UUID {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - i))) }
            for i in 6..<16 { bytes[i] = UInt8(truncatingIfNeeded: (i < 11 ? a : b) >> (8 * (i % 8))) }
            bytes[6] = 0x70 | (bytes[6] & 0x0f)  // version 7
            bytes[8] = 0x80 | (bytes[8] & 0x3f)  // RFC 9562 variant
        }
        return UUID(uuid: uuid)
    }

    /// The canonical lowercase text of an id (`0190b6b2-...`), as the API shows it; the
    /// same as `uuidString.lowercased()` without formatting through the C library.
    public static func text(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var n = 0
                for (i, byte) in bytes.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[n] = UInt8(ascii: "-")
                        n += 1
                    }
                    out[n] = hexDigit(byte >> 4)
                    out[n + 1] = hexDigit(byte & 0x0f)
                    n += 2
                }
                return n
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
