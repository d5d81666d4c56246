import Foundation

/// Rows in the binary format of `COPY ... FROM STDIN (FORMAT binary)`: a signature, then
/// per row a field count and each field as a length and its binary value (`*_send`
/// format), then a trailer. PostgreSQL reads it without parsing text and stores the rows
/// with its multi-row heap insert.
struct PostgresBinaryCopy {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(21 + capacity)
        bytes.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        bytes.appendBigEndian(UInt32(0))   // flags: no OIDs
        bytes.appendBigEndian(UInt32(0))   // header extension length
    }

    /// Starts a row of `fields` fields; append exactly that many values next.
    mutating func beginRow(fields: Int) { bytes.appendBigEndian(UInt16(fields)) }

    mutating func append(int4 value: Int32) { field(4) { $0.appendBigEndian(UInt32(bitPattern: value)) } }
    mutating func append(int8 value: Int64) { field(8) { $0.appendBigEndian(UInt64(bitPattern: value)) } }
    mutating func append(float8 value: Double) { field(8) { $0.appendBigEndian(value.bitPattern) } }
    mutating func append(text value: String) {
        let utf8 = value.utf8
        field(utf8.count) { $0.append(contentsOf: utf8) }
    }
    mutating func append(uuid value: UUID) {
        field(16) { b in withUnsafeBytes(of: value.uuid) { b.append(contentsOf: $0) } }
    }
    /// A `jsonb` value from JSON text (version byte 1, then the text; the server validates it).
    mutating func append(jsonb text: String) {
        let utf8 = text.utf8
        field(1 + utf8.count) { b in
            b.append(1)
            b.append(contentsOf: utf8)
        }
    }
    /// An array value (`PostgresBinaryArray` is `array_send`'s format).
    mutating func append(array: PostgresBinaryArray) { field(array.bytes.count) { $0.append(contentsOf: array.bytes) } }
    mutating func appendNull() { bytes.appendBigEndian(UInt32(bitPattern: -1)) }

    /// The rows followed by the trailer: what `PQputCopyData` sends (the bytes are moved,
    /// not copied).
    consuming func finished() -> [UInt8] {
        bytes.appendBigEndian(UInt16(0xFFFF))
        return bytes
    }

    private mutating func field(_ length: Int, _ write: (inout [UInt8]) -> Void) {
        bytes.appendBigEndian(UInt32(length))
        write(&bytes)
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in network byte order, as PostgreSQL's binary formats want it.
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
