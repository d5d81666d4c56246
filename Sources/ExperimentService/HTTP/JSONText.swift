/// JSON text for the few hot-path values written by hand instead of through `JSONEncoder`.
enum JSONText {
    /// A JSON string literal.
    static func string(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + s + "\""  // the common case: nothing to escape
        }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object of finite numbers, keys sorted.
    static func object(_ values: [String: Double]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { string($0.key) + ":" + number($0.value) }.joined(separator: ",") + "}"
    }

    /// A finite number as JSONEncoder writes it (integral values without ".0").
    static func number(_ value: Double) -> String {
        integral(value).map { String($0) } ?? value.description
    }

    /// The integer a finite number is written as, if it is one (below 10^15, where every
    /// integer is exact).
    static func integral(_ value: Double) -> Int64? {
        value == value.rounded() && abs(value) < 1e15 ? Int64(value) : nil
    }

    /// The same for FP32 (below 10^7).
    static func integral(_ value: Float) -> Int64? {
        value == value.rounded() && abs(value) < 1e7 ? Int64(value) : nil
    }
}
