import Foundation

/// The results page of one experiment: which arm wins and how sure that is. Per metric a
/// table of the `switchboard.metric_statistics` figures (by the experiment's analysis),
/// the probability each arm is best and its traffic now, the warnings, and four plots:
/// the primary metric's cumulative mean with its interval, the traffic allocation over
/// time, the decisions per hour and (for Thompson policies) the posterior densities; for
/// a model experiment, each model's predictions and output classes.
struct ExperimentPage {
    let experiment: Experiment
    let results: ExperimentResults

    func render() -> String {
        let e = experiment, r = results
        var body = "<h1>\(HTML.escape(e.key))</h1>"
        body += #"<p class="meta"><span class="badge status" data-status="\#(e.status.rawValue)">\#(e.status.rawValue)</span>"#
        body += "<span>policy \(HTML.escape(e.policyID))</span><span>\(r.analysis == .sequential ? "always-valid (sequential) statistics" : "fixed-horizon statistics")</span>"
        body += "<span>created \(HTML.escape(Self.timestamp(e.createdAt)))</span><span>phase \(e.phase)</span></p>"
        if !r.warnings.isEmpty {
            body += #"<div class="warnings" id="warnings">"# + r.warnings.map { #"<p data-warning>\#(HTML.escape($0))</p>"# }.joined() + "</div>"
        }
        body += phases()
        body += verdict()
        for m in r.metrics { body += table(m) }
        body += predictions()
        body += "<h2>Over time</h2><div class=\"charts\">"
        body += figure("Cumulative mean of \(e.primaryMetric.name), with its 95 % \(r.analysis == .sequential ? "confidence sequence" : "interval")", cumulativeChart())
        body += figure("Traffic allocation per hour", allocationChart())
        body += figure("Decisions per hour", decisionsChart())
        if let posterior = posteriorChart() { body += figure("Posterior of each arm's \(e.primaryMetric.name)", posterior) }
        body += "</div>"
        body += #"<p class="note">The same figures as JSON: <a href="/v1/experiments/\#(HTML.escape(e.key))/results">/v1/experiments/\#(HTML.escape(e.key))/results</a>; in SQL: the views <code>switchboard.metric_statistics</code>, <code>experiment_srm</code>, <code>hourly_results</code>, <code>cumulative_results</code>\#(r.outputs.isEmpty ? "" : ", <code>output_classes</code>"). Times are UTC.</p>"#
        return HTML.page(title: e.key, body: body)
    }

    func phases() -> String {
        guard results.phases.count > 1 else { return "" }
        var s = #"<nav class="phases">Phases: "#
        s += results.phase == nil ? "<strong>all</strong>" : #"<a href="?">all</a>"#
        for p in results.phases {
            let label = "\(p.phase) (\(p.change), \(p.startedAt))"
            s += results.phase == p.phase ? " <strong>\(HTML.escape(label))</strong>" : #" <a href="?phase=\#(p.phase)">\#(HTML.escape(label))</a>"#
        }
        return s + "</nav>"
    }

    /// One sentence: the leading arm on the primary metric and how sure that is.
    func verdict() -> String {
        guard let best = results.probabilityBest, let top = best.indices.max(by: { best[$0] < best[$1] }) else {
            return #"<p id="verdict">Not enough rewards yet to compare the arms.</p>"#
        }
        let arm = results.arms[top]
        let significant = arm.isControl ? nil : (results.analysis == .sequential ? arm.seqPValue : arm.pValue).map { $0 < 0.05 }
        var s = #"<p id="verdict"><strong>\#(HTML.escape(arm.arm))</strong> leads on \#(HTML.escape(experiment.primaryMetric.name)): "#
        s += "it is best with probability \(HTML.percent(best[top]))"
        if let significant {
            s += significant ? ", and its lift over control is significant at 5 % (\(results.analysis == .sequential ? "safe to read at any time" : "fixed horizon"))."
                             : ", but its lift over control is not yet significant at 5 %."
        } else {
            s += "."
        }
        return s + "</p>"
    }

    func table(_ m: ExperimentResults.MetricResults) -> String {
        let sequential = results.analysis == .sequential
        let primary = m.metric.primary
        let showModels = experiment.arms.contains { $0.backend != nil }
        var s = #"<h2>\#(HTML.escape(m.metric.name)) <span class="note">\#(primary ? "primary" : "guardrail") · \#(m.metric.kind.rawValue) · should \#(m.metric.direction.rawValue)</span>"#
        if m.guardrailViolated { s += #" <span class="badge warn">moving the wrong way</span>"# }
        s += #"</h2><table id="metric-\#(HTML.escape(m.metric.name))" data-metric="\#(HTML.escape(m.metric.name))"><thead><tr><th>arm</th>"#
        if showModels { s += "<th>model</th>" }
        s += "<th>decisions</th><th>rewards</th><th>mean</th><th>95 % interval</th><th>lift</th><th>lift interval</th><th>p-value</th>"
        if primary { s += "<th>P(best)</th><th>traffic now</th>" }
        s += "</tr></thead><tbody>"
        let best = primary ? results.probabilityBest : nil
        for (i, a) in m.arms.enumerated() {
            let (low, high) = sequential ? (a.seqCILow, a.seqCIHigh) : (a.ciLow, a.ciHigh)
            let (liftLow, liftHigh) = sequential ? (a.seqLiftCILow, a.seqLiftCIHigh) : (a.liftCILow, a.liftCIHigh)
            let p = sequential ? a.seqPValue : a.pValue
            let good = m.metric.direction == .increase ? (liftLow ?? -1) > 0 : (liftHigh ?? 1) < 0
            let bad = m.metric.direction == .increase ? (liftHigh ?? 1) < 0 : (liftLow ?? -1) > 0
            s += #"<tr data-arm="\#(HTML.escape(a.arm))"><td>\#(HTML.escape(a.arm))\#(a.isControl ? " <span class=\"note\">control</span>" : "")</td>"#
            if showModels { s += "<td>\(HTML.escape(experiment.arms.first { $0.name == a.arm }?.backend ?? "–"))</td>" }
            s += HTML.cell("decisions", count: a.decisions)
            s += HTML.cell("rewards", count: a.rewards)
            s += HTML.cell("mean", a.mean)
            s += #"<td data-field="interval" data-low="\#(low.map { "\($0)" } ?? "")" data-high="\#(high.map { "\($0)" } ?? "")">\#(low == nil ? "–" : "[\(HTML.number(low)), \(HTML.number(high))]")</td>"#
            s += HTML.cell("lift", a.lift, text: a.lift.map { l in HTML.number(l) + (a.relativeLift.map { " (\(String(format: "%+.1f", $0 * 100)) %)" } ?? "") } ?? "–")
            s += #"<td data-field="lift-interval" data-low="\#(liftLow.map { "\($0)" } ?? "")" data-high="\#(liftHigh.map { "\($0)" } ?? "")" class="\#(good ? "win" : bad ? "lose" : "")">\#(liftLow == nil ? "–" : "[\(HTML.number(liftLow)), \(HTML.number(liftHigh))]")</td>"#
            s += HTML.cell("p-value", p, text: HTML.pValue(p))
            if primary {
                s += HTML.cell("p-best", best?[i], text: HTML.percent(best?[i]))
                let share = results.traffic.flatMap { $0.indices.contains(i) ? $0[i] : nil }
                s += HTML.cell("traffic", share, text: HTML.percent(share))
            }
            s += "</tr>"
        }
        s += "</tbody></table>"
        let srm = results.sampleRatio
        if primary, let pSRM = srm.pValue {
            s += #"<p class="note" id="srm" data-p-value="\#(pSRM)">Sample-ratio test: χ² = \#(HTML.number(srm.chiSquare)) with \#(srm.degreesOfFreedom ?? 0) degrees of freedom, p = \#(HTML.pValue(pSRM)) \#(srm.mismatch ? #"<span class="badge warn">mismatch</span>"# : #"<span class="badge ok">ok</span>"#)</p>"#
        }
        return s
    }

    /// The most classes shown one by one; the rest are summed as "other".
    static let shownClasses = 10

    /// For a model experiment: per arm its model, its predictions and the distribution of
    /// the classes its outputs held (`switchboard.output_classes`), as a table and a plot.
    func predictions() -> String {
        let outputs = results.outputs
        guard !outputs.isEmpty else { return "" }
        var totals: [Int64: Int] = [:]
        for o in outputs { for c in o.classes { totals[c.outputClass, default: 0] += c.outputRows } }
        let shown = totals.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(Self.shownClasses).map(\.key).sorted()
        let other = totals.count > shown.count
        var s = #"<h2>Predictions <span class="note">per model, and the classes their outputs held</span></h2>"#
        s += #"<table id="predictions"><thead><tr><th>arm</th><th>model</th><th>predictions</th><th>classified rows</th>"#
        s += shown.map { "<th>class \($0)</th>" }.joined() + (other ? "<th>other</th>" : "") + "</tr></thead><tbody>"
        for o in outputs {
            let rows = o.classes.reduce(0) { $0 + $1.outputRows }
            s += #"<tr data-arm="\#(HTML.escape(o.arm))"><td>\#(HTML.escape(o.arm))</td><td>\#(HTML.escape(o.model))</td>"#
            s += HTML.cell("predictions", count: o.predictions) + HTML.cell("classified-rows", count: rows)
            for c in shown {
                let share = o.classes.first { $0.outputClass == c }?.share ?? 0
                s += #"<td data-field="class" data-class="\#(c)" data-value="\#(share)">\#(HTML.percent(rows > 0 ? share : nil))</td>"#
            }
            if other {
                let share = o.classes.filter { !shown.contains($0.outputClass) }.reduce(0) { $0 + $1.share }
                s += #"<td data-field="class" data-class="other" data-value="\#(share)">\#(HTML.percent(rows > 0 ? share : nil))</td>"#
            }
            s += "</tr>"
        }
        s += "</tbody></table>"
        let names = shown.map { "class \($0)" } + (other ? ["other"] : [])
        let bars = outputs.map { o in
            SVGChart.Bar(label: o.arm, values: shown.map { c in o.classes.first { $0.outputClass == c }?.share ?? 0 }
                            + (other ? [o.classes.filter { !shown.contains($0.outputClass) }.reduce(0) { $0 + $1.share }] : []))
        }
        s += #"<div class="charts single">"# + figure("Class distribution of each model's outputs",
                                              SVGChart.stackedBars(id: "output-classes", title: "output classes", seriesNames: names,
                                                                   bars: bars, yLabel: "share of output rows",
                                                                   valueText: { HTML.percent($0) })) + "</div>"
        return s
    }

    func figure(_ caption: String, _ svg: String) -> String {
        "<figure><figcaption>\(HTML.escape(caption))</figcaption>\(svg)</figure>"
    }

    /// The hours of the plots, in order, and their x positions (hours since the first).
    var hours: [String] { Array(Set(results.hourly.map(\.hour) + results.cumulative.map(\.hour))).sorted() }

    func hourLabel(_ hours: [String]) -> (Double) -> String {
        { x in
            let i = Int(x.rounded())
            guard hours.indices.contains(i) else { return "" }
            let h = hours[i]  // YYYY-MM-DDTHH:00:00Z
            return String(h.dropFirst(5).prefix(5)) + " " + String(h.dropFirst(11).prefix(5))
        }
    }

    func cumulativeChart() -> String {
        let hours = self.hours, index = Dictionary(uniqueKeysWithValues: hours.enumerated().map { ($1, Double($0)) })
        let sequential = results.analysis == .sequential
        let series = experiment.arms.map { arm -> SVGChart.Series in
            let rows = results.cumulative.filter { $0.arm == arm.name && $0.mean != nil }
            return SVGChart.Series(
                name: arm.name,
                points: rows.compactMap { r in r.mean.map { (index[r.hour] ?? 0, $0) } },
                band: rows.compactMap { r in
                    let (l, h) = sequential ? (r.seqCILow, r.seqCIHigh) : (r.ciLow, r.ciHigh)
                    guard let l, let h else { return nil }
                    return (index[r.hour] ?? 0, l, h)
                })
        }
        let means = series.flatMap { $0.points.map(\.y) }
        let range = means.isEmpty ? nil : SVGChart.padded((means.min() ?? 0)...(means.max() ?? 1))
        // The band of the first hours can be very wide: the axis follows the means, and bands are clipped.
        let yRange = range.map { r in (r.lowerBound - (r.upperBound - r.lowerBound))...(r.upperBound + (r.upperBound - r.lowerBound)) }
        return SVGChart.lines(id: "cumulative-mean", title: "cumulative mean", series: series, xLabel: hourLabel(hours),
                              yLabel: experiment.primaryMetric.name, yRange: yRange, indexedX: true)
    }

    func allocationChart() -> String {
        let hours = self.hours
        let series = experiment.arms.map { arm -> SVGChart.Series in
            let points = hours.enumerated().compactMap { i, h -> (x: Double, y: Double)? in
                let rows = results.hourly.filter { $0.hour == h }
                let total = rows.reduce(0) { $0 + $1.decisions }
                guard total > 0 else { return nil }
                return (Double(i), Double(rows.first { $0.arm == arm.name }?.decisions ?? 0) / Double(total))
            }
            return SVGChart.Series(name: arm.name, points: points)
        }
        return SVGChart.lines(id: "traffic-allocation", title: "traffic allocation", series: series, xLabel: hourLabel(hours),
                              yLabel: "share of decisions", yRange: 0...1, indexedX: true)
    }

    func decisionsChart() -> String {
        let bars = hours.map { h in
            SVGChart.Bar(label: hourLabel([h])(0), values: experiment.arms.map { arm in
                Double(results.hourly.first { $0.hour == h && $0.arm == arm.name }?.decisions ?? 0)
            })
        }
        return SVGChart.stackedBars(id: "decisions-per-hour", title: "decisions per hour", seriesNames: experiment.arms.map(\.name),
                                    bars: bars, yLabel: "decisions")
    }

    /// Posterior densities, for Thompson-sampling policies (they choose by these beliefs).
    func posteriorChart() -> String? {
        guard (experiment.policy?.name ?? "").contains("thompson") else { return nil }
        let posteriors = results.posteriors
        let present = posteriors.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        let low = present.map(\.support.lowerBound).min() ?? 0, high = present.map(\.support.upperBound).max() ?? 1
        let series = zip(experiment.arms, posteriors).map { arm, p -> SVGChart.Series in
            guard let p else { return SVGChart.Series(name: arm.name, points: []) }
            let xs = (0...120).map { low + (high - low) * Double($0) / 120 }
            return SVGChart.Series(name: arm.name, points: xs.map { ($0, p.density($0)) })
        }
        let peak = series.flatMap { $0.points.map(\.y) }.max() ?? 1
        return SVGChart.lines(id: "posteriors", title: "posterior densities", series: series, xLabel: { SVGChart.number($0) },
                              yLabel: "density", yRange: 0...(peak * 1.05))
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
