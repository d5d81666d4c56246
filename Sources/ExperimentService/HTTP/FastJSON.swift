import Foundation

/// A small strict pull reader for the hot request bodies (assign, predict): the body type
/// reads its own fields straight from the bytes, with no intermediate tree or dictionary,
/// several times cheaper than `JSONDecoder`'s Codable path. It gives up (nil) on anything
/// unusual — escapes in strings, a repeated field, deep nesting, bad syntax — and the
/// caller then decodes with `JSONDecoder`, which also words the error; so it never changes
/// what is accepted or how a bad body is explained.
enum FastJSON {
    /// Reads a whole body with `read`, which must read exactly one value; nil if it gives up
    /// or anything but white space follows.
    static func decode<T>(_ bytes: UnsafeRawBufferPointer, _ read: (inout Reader) -> T?) -> T? {
        var reader = Reader(bytes: bytes)
        guard let value = read(&reader) else { return nil }
        reader.skipSpace()
        return reader.index == bytes.count ? value : nil
    }

    /// The deepest nesting read (deeper: give up).
    static let maxDepth = 32

    /// An object key, compared without making a `String`.
    struct Key {
        let bytes: UnsafeRawBufferPointer

        static func == (key: Key, name: StaticString) -> Bool {
            key.bytes.count == name.utf8CodeUnitCount && memcmp(key.bytes.baseAddress!, name.utf8Start, key.bytes.count) == 0
        }
    }

    /// A cursor over the body. Every read returns nil or false to give up.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        private(set) var index = 0
        private var depth = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        /// Skips white space and consumes `byte` if it comes next.
        private mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Reads an object, calling `member` with each key; `member` reads that key's value.
        mutating func object(_ member: (inout Reader, Key) -> Bool) -> Bool {
            guard depth < FastJSON.maxDepth, take(UInt8(ascii: "{")) else { return false }
            depth += 1
            defer { depth -= 1 }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                skipSpace()
                guard let key = rawString(), take(UInt8(ascii: ":")), member(&self, Key(bytes: key)) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        /// Reads an array, calling `element` to read each element.
        mutating func array(_ element: (inout Reader) -> Bool) -> Bool {
            guard depth < FastJSON.maxDepth, take(UInt8(ascii: "[")) else { return false }
            depth += 1
            defer { depth -= 1 }
            if take(UInt8(ascii: "]")) { return true }
            repeat {
                guard element(&self) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        }

        /// A string without escapes or control characters.
        mutating func string() -> String? {
            skipSpace()
            return rawString().flatMap { String(validating: $0, as: UTF8.self) }
        }

        /// The bytes between the quotes of a string without escapes or control characters.
        private mutating func rawString() -> UnsafeRawBufferPointer? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    return UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1])
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// A finite number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> Double? {
            skipSpace()
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "0") { index += 1 } else if digits() == 0 { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return nil }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return nil }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        }

        /// `true` or `false`.
        mutating func bool() -> Bool? {
            if literal("true") { return true }
            if literal("false") { return false }
            return nil
        }

        /// Consumes `null` if it comes next.
        mutating func null() -> Bool { literal("null") }

        private mutating func literal(_ word: StaticString) -> Bool {
            skipSpace()
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0 else { return false }
            index += count
            return true
        }

        /// Reads any value and drops it (a field the body type does not have).
        mutating func skip() -> Bool {
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object { r, _ in r.skip() }
            case UInt8(ascii: "["): return array { $0.skip() }
            case UInt8(ascii: "\""): return rawString() != nil
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return bool() != nil
            case UInt8(ascii: "n"): return null()
            default: return number() != nil
            }
        }

        /// An object of numbers, or null (nil inside a success).
        mutating func numberMap() -> [String: Double]?? {
            if null() { return .some(nil) }
            var out: [String: Double] = [:]
            let ok = object { r, key in
                guard let name = String(validating: key.bytes, as: UTF8.self), let n = r.number() else { return false }
                return out.updateValue(n, forKey: name) == nil
            }
            return ok ? .some(out) : nil
        }

        /// An array of integers (written as integral numbers).
        mutating func integers() -> [Int64]? {
            var out: [Int64] = []
            out.reserveCapacity(4)
            let ok = array { r in
                guard let n = r.number(), n == n.rounded(), let i = Int64(exactly: n) else { return false }
                out.append(i)
                return true
            }
            return ok ? out : nil
        }
    }

    /// Fills a field read once: false (give up) if `value` is nil or the field was read before.
    static func once<T>(_ field: inout T?, _ value: T?) -> Bool {
        guard case .none = field, let value else { return false }
        field = value
        return true
    }
}

/// A request body type with a fast path: read by a ``FastJSON/Reader``, or nil to let
/// `JSONDecoder` decode it (and explain what is wrong).
protocol FastJSONDecodable {
    init?(fastJSON: inout FastJSON.Reader)
}
