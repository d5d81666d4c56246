#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Random 64-bit words from the kernel's CSPRNG, fetched 512 at a time.
///
/// Every decision needs three (its seed and the random part of its UUIDv7).
/// `SystemRandomNumberGenerator` makes one `getrandom` system call per word; this pool
/// reads 512 at a time from `/dev/urandom` (the same kernel source) and falls back to
/// `SystemRandomNumberGenerator` if that cannot be read.
public enum RandomWords {
    private static let pool = Mutex(Pool())

    /// The next random word.
    public static func next() -> UInt64 {
        pool.withLock { $0.next() }
    }

    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var used = 512
        #if canImport(Glibc)
        let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        #endif

        mutating func next() -> UInt64 {
            if used == words.count {
                refill()
                used = 0
            }
            defer { used += 1 }
            return words[used]
        }

        private mutating func refill() {
            #if canImport(Glibc)
            let urandom = self.urandom
            words.withUnsafeMutableBytes { buffer in
                var filled = 0
                while urandom >= 0, filled < buffer.count {
                    let n = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                    if n > 0 { filled += n } else if n == 0 || errno != EINTR { break }
                }
                if filled < buffer.count { Self.fallback(buffer, from: filled) }
            }
            #else
            words.withUnsafeMutableBytes { Self.fallback($0, from: 0) }
            #endif
        }

        private static func fallback(_ buffer: UnsafeMutableRawBufferPointer, from start: Int) {
            var system = SystemRandomNumberGenerator()
            for i in start..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: system.next()) }
        }
    }
}
