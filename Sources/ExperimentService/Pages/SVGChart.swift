import Foundation

/// Small server-rendered SVG charts for the results page: lines with optional interval
/// bands, and stacked bars. Each series is an element with `data-series` (bands
/// `data-band`) naming it, so a browser test can find every series the chart draws.
struct SVGChart {
    /// One line, with an optional band (low, high) at the same x values.
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var band: [(x: Double, low: Double, high: Double)] = []
    }

    /// A stacked bar: one value per series, at one x.
    struct Bar {
        var label: String
        var values: [Double]
    }

    static let width = 640.0, height = 260.0
    static let margin = (left: 56.0, right: 12.0, top: 12.0, bottom: 40.0)
    /// Colour-blind-safe (Okabe–Ito), by series position.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

    static func colour(_ i: Int) -> String { palette[i % palette.count] }

    /// A line chart. `xLabel` formats an x value for the axis; `yRange` fixes the y axis.
    /// With `indexedX` the x values are positions 0, 1, 2… (hours): the axis is half a
    /// position wider on each side, so one hour's points stand in the middle, and ticks
    /// fall on whole positions only, each labelled once. When there is one position only,
    /// the series stand side by side around it, and an interval band is an error bar.
    static func lines(id: String, title: String, series: [Series], xLabel: (Double) -> String, yLabel: String,
                      yRange: ClosedRange<Double>? = nil, indexedX: Bool = false) -> String {
        let xs = series.flatMap { $0.points.map(\.x) + $0.band.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.low, $0.high] } }.filter(\.isFinite)
        guard let xMin = xs.min(), let xMax = xs.max(), let yMinData = ys.min(), let yMaxData = ys.max() else {
            return empty(id: id, title: title)
        }
        let yr = yRange ?? padded(yMinData...yMaxData)
        let frame = Frame(x: indexedX ? (xMin - 0.5)...(xMax + 0.5) : xMin...(xMax > xMin ? xMax : xMin + 1), y: yr)
        var svg = open(id: id, title: title)
        let xTicks = indexedX ? positionTicks(Int(xMin.rounded())...Int(xMax.rounded()), most: 6) : xMax > xMin ? ticks(frame.x, count: 5) : [xMin]
        svg += frame.axes(xTicks: xTicks, yTicks: ticks(frame.y, count: 5), xLabel: xLabel, yLabel: yLabel)
        let sideBySide = indexedX && xMin == xMax
        func dx(_ i: Int) -> Double { sideBySide ? (Double(i) - Double(series.count - 1) / 2) * 0.08 : 0 }
        for (i, s) in series.enumerated() where !s.band.isEmpty {
            let upper = s.band.map { frame.point($0.x + dx(i), $0.high) }, lower = s.band.reversed().map { frame.point($0.x + dx(i), $0.low) }
            // A band over one x has no width: it is drawn as an error bar.
            let stroke = s.band.count == 1 ? #"stroke="\#(colour(i))" stroke-opacity="0.6" stroke-width="3""# : #"stroke="none""#
            svg += #"<path data-band="\#(HTML.escape(s.name))" d="\#(path(upper + lower, closed: true))" fill="\#(colour(i))" fill-opacity="0.15" \#(stroke)/>"#
        }
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let points = s.points.map { frame.point($0.x + dx(i), $0.y) }
            svg += #"<path data-series="\#(HTML.escape(s.name))" data-points="\#(s.points.count)" d="\#(path(points, closed: false))" fill="none" stroke="\#(colour(i))" stroke-width="2"/>"#
            if s.points.count == 1, let p = points.first {
                svg += #"<circle cx="\#(f(p.x))" cy="\#(f(p.y))" r="3" fill="\#(colour(i))"/>"#
            }
        }
        svg += legend(series.map(\.name))
        return svg + "</svg>"
    }

    /// A stacked bar chart, one colour per series.
    static func stackedBars(id: String, title: String, seriesNames: [String], bars: [Bar], yLabel: String,
                            valueText: (Double) -> String = { number($0) }) -> String {
        let totals = bars.map { $0.values.reduce(0, +) }
        guard let top = totals.max(), top > 0 else { return empty(id: id, title: title) }
        let frame = Frame(x: 0...Double(max(bars.count, 1)), y: 0...(top * 1.05))
        var svg = open(id: id, title: title)
        let every = max(1, bars.count / 6)
        let labelled = stride(from: 0, to: bars.count, by: every).map { Double($0) + 0.5 }
        svg += frame.axes(xTicks: labelled, yTicks: ticks(frame.y, count: 5),
                          xLabel: { x in bars.indices.contains(Int(x)) ? bars[Int(x)].label : "" }, yLabel: yLabel)
        let slot = (width - margin.left - margin.right) / Double(max(bars.count, 1))
        for (s, name) in seriesNames.enumerated() {
            svg += #"<g data-series="\#(HTML.escape(name))" fill="\#(colour(s))">"#
            for (b, bar) in bars.enumerated() where bar.values.indices.contains(s) && bar.values[s] > 0 {
                let below = bar.values[..<s].reduce(0, +)
                let y0 = frame.point(0, below).y, y1 = frame.point(0, below + bar.values[s]).y
                svg += #"<rect x="\#(f(margin.left + Double(b) * slot + slot * 0.1))" y="\#(f(y1))" width="\#(f(slot * 0.8))" height="\#(f(y0 - y1))"><title>\#(HTML.escape(name)) \#(HTML.escape(bar.label)): \#(HTML.escape(valueText(bar.values[s])))</title></rect>"#
            }
            svg += "</g>"
        }
        return svg + legend(seriesNames) + "</svg>"
    }

    /// The plotting area's mapping from data to pixels.
    struct Frame {
        var x: ClosedRange<Double>
        var y: ClosedRange<Double>

        func point(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
            let w = width - margin.left - margin.right, h = height - margin.top - margin.bottom
            let px = margin.left + (x - self.x.lowerBound) / (self.x.upperBound - self.x.lowerBound) * w
            let clamped = min(max(y, self.y.lowerBound), self.y.upperBound)
            let py = margin.top + h - (clamped - self.y.lowerBound) / (self.y.upperBound - self.y.lowerBound) * h
            return (px, py)
        }

        func axes(xTicks: [Double], yTicks: [Double], xLabel: (Double) -> String, yLabel: String) -> String {
            var s = ""
            for t in yTicks {
                let p = point(x.lowerBound, t), e = point(x.upperBound, t)
                s += #"<line x1="\#(f(p.x))" y1="\#(f(p.y))" x2="\#(f(e.x))" y2="\#(f(e.y))" stroke="rgb(221,221,221)"/>"#
                s += #"<text x="\#(f(p.x - 6))" y="\#(f(p.y + 4))" text-anchor="end" class="tick">\#(HTML.escape(SVGChart.number(t)))</text>"#
            }
            for t in xTicks {
                let p = point(t, y.lowerBound)
                s += #"<text x="\#(f(p.x))" y="\#(f(p.y + 16))" text-anchor="middle" class="tick">\#(HTML.escape(xLabel(t)))</text>"#
            }
            let origin = point(x.lowerBound, y.lowerBound), end = point(x.upperBound, y.lowerBound), top = point(x.lowerBound, y.upperBound)
            s += #"<line x1="\#(f(origin.x))" y1="\#(f(origin.y))" x2="\#(f(end.x))" y2="\#(f(end.y))" stroke="rgb(136,136,136)"/>"#
            s += #"<line x1="\#(f(origin.x))" y1="\#(f(origin.y))" x2="\#(f(top.x))" y2="\#(f(top.y))" stroke="rgb(136,136,136)"/>"#
            s += #"<text x="12" y="\#(f(margin.top + 4))" class="axis-label" transform="rotate(-90 12 \#(f(margin.top + 4)))" text-anchor="end">\#(HTML.escape(yLabel))</text>"#
            return s
        }
    }

    static func open(id: String, title: String) -> String {
        #"<svg id="\#(HTML.escape(id))" data-chart="\#(HTML.escape(id))" viewBox="0 0 \#(Int(width)) \#(Int(height + 22))" role="img" aria-label="\#(HTML.escape(title))" xmlns="http://www.w3.org/2000/svg">"#
    }

    static func empty(id: String, title: String) -> String {
        open(id: id, title: title) + #"<text x="\#(Int(width / 2))" y="\#(Int(height / 2))" text-anchor="middle" class="tick">no data yet</text></svg>"#
    }

    static func legend(_ names: [String]) -> String {
        var s = "", x = margin.left
        for (i, name) in names.enumerated() {
            s += #"<rect x="\#(f(x))" y="\#(f(height + 6))" width="10" height="10" fill="\#(colour(i))"/>"#
            s += #"<text x="\#(f(x + 14))" y="\#(f(height + 15))" class="tick">\#(HTML.escape(name))</text>"#
            x += 24 + Double(name.count) * 7
        }
        return s
    }

    static func path(_ points: [(x: Double, y: Double)], closed: Bool) -> String {
        points.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(f(p.x)),\(f(p.y))" }.joined() + (closed ? "Z" : "")
    }

    static func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
        let span = r.upperBound - r.lowerBound
        let pad = span > 0 ? span * 0.08 : max(abs(r.lowerBound) * 0.1, 1)
        return (r.lowerBound - pad)...(r.upperBound + pad)
    }

    /// At most `most` whole positions of `r`, evenly spaced, the first included.
    static func positionTicks(_ r: ClosedRange<Int>, most: Int) -> [Double] {
        let every = max(1, (r.count + most - 1) / most)
        return stride(from: r.lowerBound, through: r.upperBound, by: every).map(Double.init)
    }

    static func ticks(_ r: ClosedRange<Double>, count: Int) -> [Double] {
        (0...count).map { r.lowerBound + (r.upperBound - r.lowerBound) * Double($0) / Double(count) }
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A tick's text: a few significant digits.
    static func number(_ v: Double) -> String {
        abs(v) >= 1_000 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }
}
