/// PostgreSQL array literals (`{"a","b",NULL}`) for passing many rows as a few text
/// parameters (`unnest($1::text[], ...)`): cheaper to build than JSON and to parse than
/// `jsonb`. Every element is double-quoted with `\` and `"` escaped, so any text is safe.
enum PostgresArrayLiteral {
    static func make(_ values: [String?]) -> String {
        var out = "{"
        out.reserveCapacity(values.count * 16)
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            guard let value else {
                out += "NULL"
                continue
            }
            out += "\""
            if value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) {
                for scalar in value.unicodeScalars {
                    if scalar == "\\" || scalar == "\"" { out += "\\" }
                    out.unicodeScalars.append(scalar)
                }
            } else {
                out += value  // the common case: nothing to escape
            }
            out += "\""
        }
        return out + "}"
    }
}
