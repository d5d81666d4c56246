import Foundation

/// The list of experiments on the results page: status, policy, arms, decisions, start
/// time, and a badge for a sample-ratio mismatch or a guardrail moving the wrong way.
struct ExperimentListPage {
    struct Row {
        var experiment: Experiment
        var summary: ExperimentSummary
    }

    let rows: [Row]

    func render() -> String {
        var body = "<h1>Experiments</h1>"
        guard !rows.isEmpty else {
            return HTML.page(title: "Experiments", body: body + "<p>No experiments yet: create one with <code>POST /v1/experiments</code>.</p>")
        }
        body += #"<table id="experiments"><thead><tr><th>experiment</th><th>status</th><th>policy</th><th>arms</th><th>decisions</th><th>started (UTC)</th><th>checks</th></tr></thead><tbody>"#
        for row in rows {
            let e = row.experiment, s = row.summary
            var badges: [String] = []
            if s.sampleRatio.mismatch { badges.append(#"<span class="badge warn" data-badge="srm">sample-ratio mismatch</span>"#) }
            if s.guardrailViolated { badges.append(#"<span class="badge warn" data-badge="guardrail">guardrail</span>"#) }
            if badges.isEmpty { badges.append(#"<span class="badge ok">ok</span>"#) }
            body += #"<tr data-experiment="\#(HTML.escape(e.key))"><td><a href="/results/\#(HTML.escape(e.key))">\#(HTML.escape(e.key))</a></td>"#
            body += #"<td><span class="badge status">\#(e.status.rawValue)</span></td><td>\#(HTML.escape(e.policyID))</td>"#
            body += "<td>\(HTML.escape(e.arms.map(\.name).joined(separator: ", ")))</td>"
            body += HTML.cell("decisions", count: s.decisions)
            body += "<td>\(HTML.escape(ExperimentPage.timestamp(e.createdAt)))</td><td>\(badges.joined(separator: " "))</td></tr>"
        }
        body += "</tbody></table>"
        return HTML.page(title: "Experiments", body: body)
    }
}
