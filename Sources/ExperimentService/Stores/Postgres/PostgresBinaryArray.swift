import Foundation

/// One-dimensional PostgreSQL arrays in the binary wire format (`array_send`), as array
/// fields of a binary `COPY` (``PostgresBinaryCopy``). The server reads them without
/// parsing text: no number or UUID is formatted here or parsed there, and no text needs
/// escaping.
struct PostgresBinaryArray {
    /// Element type OIDs (`pg_type.oid`, fixed for built-in types).
    enum Element: UInt32 {
        case int4 = 23, int8 = 20, float8 = 701, text = 25, uuid = 2950
    }

    private(set) var bytes: [UInt8] = []
    /// Where the header's has-nulls flag and dimension length are.
    private let nullFlagOffset = 4, countOffset = 12
    private var count: Int32 = 0

    init(_ element: Element, capacity: Int = 0) {
        bytes.reserveCapacity(20 + capacity)
        append(Int32(1))              // dimensions
        append(Int32(0))              // has nulls (set by appendNull)
        append(element.rawValue)      // element type
        append(Int32(0))              // length of the dimension (set as elements come)
        append(Int32(1))              // lower bound
    }

    mutating func append(int4 value: Int32) { element(4) { $0.append(value) } }
    mutating func append(int8 value: Int64) { element(8) { $0.append(UInt64(bitPattern: value)) } }
    mutating func append(float8 value: Double) { element(8) { $0.append(value.bitPattern) } }
    mutating func append(text value: String) {
        let utf8 = value.utf8
        element(Int32(utf8.count)) { $0.bytes.append(contentsOf: utf8) }
    }
    mutating func append(uuid value: UUID) {
        element(16) { a in withUnsafeBytes(of: value.uuid) { a.bytes.append(contentsOf: $0) } }
    }

    /// A NULL element.
    mutating func appendNull() {
        append(Int32(-1))
        setInt32(1, at: nullFlagOffset)
        bump()
    }

    private mutating func element(_ length: Int32, _ write: (inout PostgresBinaryArray) -> Void) {
        append(length)
        write(&self)
        bump()
    }

    private mutating func bump() {
        count += 1
        setInt32(count, at: countOffset)
    }

    private mutating func append(_ value: Int32) { bytes.appendBigEndian(UInt32(bitPattern: value)) }
    private mutating func append(_ value: UInt32) { bytes.appendBigEndian(value) }
    private mutating func append(_ value: UInt64) { bytes.appendBigEndian(value) }
    private mutating func setInt32(_ value: Int32, at offset: Int) {
        withUnsafeBytes(of: UInt32(bitPattern: value).bigEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }
}
