import Foundation

/// HTML text for the results pages: escaping, number formats and the page frame (its
/// style sheet inline: the pages fetch nothing).
enum HTML {
    /// `text` safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A figure for a table cell: four significant digits, or "–".
    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        if v != 0 && (abs(v) >= 1e6 || abs(v) < 1e-3) { return String(format: "%.3e", v) }
        return String(format: "%.4g", v)
    }

    static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        return String(format: "%.1f %%", v * 100)
    }

    /// A p-value: "< 0.0001" below that.
    static func pValue(_ p: Double?) -> String {
        guard let p, p.isFinite else { return "–" }
        return p < 1e-4 ? "< 0.0001" : String(format: "%.4f", p)
    }

    /// A table cell carrying its exact value for machines (`data-value`, full precision)
    /// and a rounded one for people.
    static func cell(_ field: String, _ value: Double?, text: String? = nil) -> String {
        let exact = value.map { $0.isFinite ? "\($0)" : "" } ?? ""
        return #"<td data-field="\#(field)" data-value="\#(exact)">\#(escape(text ?? number(value)))</td>"#
    }

    /// A table cell holding a count.
    static func cell(_ field: String, count: Int) -> String {
        #"<td data-field="\#(field)" data-value="\#(count)">\#(count)</td>"#
    }

    /// The whole page around `body`.
    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Switchboard</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "DejaVu Sans", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
        header { background: #1d2330; color: #fff; padding: 10px 24px; } header a { color: #fff; text-decoration: none; font-weight: 600; }
        main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
        h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
        .meta { color: #5b6475; } .meta span { margin-right: 16px; }
        table { border-collapse: collapse; background: #fff; width: 100%; margin: 6px 0; }
        th, td { padding: 6px 10px; border-bottom: 1px solid #e3e6eb; text-align: right; white-space: nowrap; }
        th:first-child, td:first-child { text-align: left; } th { font-weight: 600; color: #5b6475; background: #fafbfc; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
        .badge.warn { background: #fde2e1; color: #a4161a; } .badge.ok { background: #e3f4ea; color: #1e6b3a; }
        .badge.status { background: #e7ecf5; color: #2f3d59; }
        .warnings { background: #fde2e1; border: 1px solid #f3b4b1; color: #7a1114; padding: 8px 14px; border-radius: 6px; margin: 12px 0; }
        .win { font-weight: 700; color: #1e6b3a; } .lose { color: #a4161a; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
        .charts.single { grid-template-columns: minmax(420px, 560px); }
        figure { background: #fff; margin: 0; padding: 8px; border: 1px solid #e3e6eb; border-radius: 6px; }
        figcaption { font-weight: 600; margin-bottom: 4px; } svg { width: 100%; height: auto; }
        svg .tick { font-size: 11px; fill: #5b6475; } svg .axis-label { font-size: 11px; fill: #5b6475; }
        .note { color: #5b6475; font-size: 13px; } nav.phases a { margin-right: 10px; }
        form.login { background: #fff; padding: 24px; max-width: 360px; border: 1px solid #e3e6eb; border-radius: 6px; }
        form.login input { width: 100%; padding: 6px; margin: 8px 0 12px; box-sizing: border-box; }
        </style></head>
        <body><header><a href="/results">Switchboard results</a></header><main>
        \(body)
        </main></body></html>
        """
    }
}
