import NIOCore

/// Writes JSON text straight into a `ByteBuffer`: the hot-path responses (assign,
/// predict) are built with it instead of by concatenating strings, which made a new
/// `String` for every piece.
struct JSONWriter {
    private(set) var buffer: ByteBuffer

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// JSON punctuation and keys, written as they are.
    mutating func raw(_ text: StaticString) {
        buffer.writeStaticString(text)
    }

    /// A JSON string literal (escaped only when needed).
    mutating func string(_ value: String) {
        if value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.writeString(JSONText.string(value))
        } else {
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeString(value)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }

    /// A finite number as `JSONEncoder` writes it.
    mutating func number(_ value: Double) {
        if let n = JSONText.integral(value) { integer(n) } else { buffer.writeString(value.description) }
    }

    /// A finite FP32 number, shortest.
    mutating func number(_ value: Float) {
        if let n = JSONText.integral(value) { integer(n) } else { buffer.writeString(value.description) }
    }

    /// An integer, its digits written in place (no `String` in between).
    mutating func integer(_ value: Int64) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { out in
            var rest = value.magnitude, count = 0
            repeat {
                out[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            if value < 0 {
                out[count] = UInt8(ascii: "-")
                count += 1
            }
            out[0..<count].reverse()
            return count
        }
    }

    /// A number exactly as Swift prints it (round-trips), e.g. a propensity.
    mutating func exact(_ value: Double) {
        buffer.writeString(value.description)
    }

    /// The fields every decision answer starts with (assign and predict), after an
    /// opening brace: `{"experiment":…,"variant":…,"decision_id":…,"propensity":…`.
    mutating func decisionFields(experiment: String, variant: String, decisionID: String, propensity: Double) {
        raw(#"{"experiment":"#); string(experiment)
        raw(#","variant":"#); string(variant)
        raw(#","decision_id":"#); string(decisionID)
        raw(#","propensity":"#); exact(propensity)
    }

    /// `[a,b,c]` with each element written by `element`.
    mutating func array<C: Collection>(_ items: C, _ element: (inout JSONWriter, C.Element) -> Void) {
        buffer.writeInteger(UInt8(ascii: "["))
        var first = true
        for item in items {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            element(&self, item)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    /// The text written so far (tests and logs).
    var text: String { String(buffer: buffer) }
}
