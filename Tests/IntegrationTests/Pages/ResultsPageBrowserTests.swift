@testable import ExperimentService
import Foundation
import PluginSupport
import Testing

/// The results page in a real browser: headless Chromium (Debian's), driven by Playwright
/// from the test suite's Python environment (`scripts/python-env`), loads the page of a
/// seeded experiment from a running `switchboard serve` with API keys.
@Suite("The results page in headless Chromium", .serialized)
struct ResultsPageBrowserTests {
    static let root = ThreeReplicasTests.root
    /// Where CI finds the screenshot afterwards.
    static let screenshot = root + "/.build/test-artifacts/results-page.png"

    @Test("signed in with a key, the page shows the SQL views' figures per metric and arm, the warnings, and every plot with a series per arm; without a key, no data")
    func pageInChromium() async throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is missing: run scripts/install-deps")
        let python = try await Self.run("/bin/sh", ["-c", "\(Self.root)/scripts/python-env"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await TestStores.stores()  // migrated
        let admin = "page-admin-\(UUID().uuidString.prefix(8))"
        let replicas = try await ThreeReplicasTests.start(count: 1, environment: ["SWITCHBOARD_ADMIN_KEYS": admin])
        defer { ThreeReplicasTests.stop(replicas) }
        let base = replicas[0].base
        let key = TestStores.uniqueKey("page")
        let created = try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST", json: """
            {"key": "\(key)", "arms": [{"name": "calm"}, {"name": "bold"}, {"name": "urgent"}], "policy": {"name": "thompson"},
             "metrics": [{"name": "conversion", "kind": "binary", "primary": true}, {"name": "latency_ms", "direction": "decrease"}]}
            """, bearer: admin)
        try #require(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        var rng = SplitMix64(seed: 16)
        let rates = ["calm": 0.05, "bold": 0.10, "urgent": 0.25]
        for i in 0..<400 {
            let assigned = try await ThreeReplicasTests.request(base + "/v1/experiments/\(key)/assign", method: "POST", json: #"{"unit": "u\#(i)"}"#, bearer: admin)
            let answer = try JSONDecoder().decode([String: JSONValue].self, from: assigned.body)
            guard case .string(let id)? = answer["decision_id"], case .string(let variant)? = answer["variant"] else {
                Issue.record("no decision: \(String(decoding: assigned.body, as: UTF8.self))")
                return
            }
            let converted = rng.nextUnit() < (rates[variant] ?? 0) ? 1 : 0
            let latency = 100 + 20 * rng.nextUnit() + (variant == "urgent" ? 15 : 0)
            _ = try await ThreeReplicasTests.request(base + "/v1/rewards", method: "POST", json: """
                {"rewards": [{"decision_id": "\(id)", "reward": \(converted)}, {"decision_id": "\(id)", "metric": "latency_ms", "reward": \(latency)}]}
                """, bearer: admin)
        }

        try FileManager.default.createDirectory(atPath: (Self.screenshot as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let output = NSTemporaryDirectory() + "results-page-\(key).json"
        _ = try await Self.run(python, [Self.root + "/Tests/Browser/results_page.py", "--base", base, "--experiment", key, "--api-key", admin,
                                        "--screenshot", Self.screenshot, "--output", output, "--chromium", chromium])
        let page = try JSONDecoder().decode(RenderedPage.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        print("results page screenshot: \(Self.screenshot)")

        // Without a key: the login form, and no figures (a wrong key shows none either).
        #expect(page.withoutKey?.status == 401 && page.withoutKey?.loginForm == 1 && page.withoutKey?.tables == 0)
        #expect(page.wrongKeyTables == 0)
        #expect(page.cookieHttpOnly == true && page.cookieReadableByScript == "")
        #expect(page.status == 200)

        // Every figure equals the SQL view's.
        let rows = try await TestStores.query(
            """
            SELECT metric, arm, decisions, rewards, mean, seq_ci_low, seq_ci_high, lift, seq_lift_ci_low, seq_lift_ci_high, seq_p_value
            FROM switchboard.metric_statistics WHERE experiment = $1 AND phase IS NULL ORDER BY metric, arm_index
            """, [key])
        #expect(rows.count == 6)
        for row in rows {
            let metric = row[0] ?? "", arm = row[1] ?? ""
            guard let cells = page.tables[metric]?[arm] else {
                Issue.record("no row for \(metric) / \(arm) on the page")
                continue
            }
            func same(_ field: String, _ sql: String??, index: Int? = nil) {
                let expected = (sql ?? nil).flatMap(Double.init)
                var shown: Double?
                switch cells[field] {
                case .number(let v)?: shown = index == nil ? v : nil
                case .pair(let pair)?: if let i = index, pair.indices.contains(i) { shown = pair[i] }
                default: shown = nil
                }
                let ok = expected == nil ? shown == nil : shown.map { abs($0 - expected!) <= 1e-9 * max(1, abs(expected!)) } ?? false
                #expect(ok, "\(metric) / \(arm) / \(field): page \(String(describing: shown)), SQL \(String(describing: expected))")
            }
            same("decisions", row[2]); same("rewards", row[3]); same("mean", row[4])
            same("interval", row[5], index: 0); same("interval", row[6], index: 1)
            same("lift", row[7]); same("lift-interval", row[8], index: 0); same("lift-interval", row[9], index: 1)
            same("p-value", row[10])
        }
        // Traffic now: the latest decision's logged probabilities.
        let latest = try await TestStores.query(
            "SELECT array_to_json(probabilities)::text FROM switchboard.decisions WHERE experiment = $1 ORDER BY created_at DESC LIMIT 1", [key])
        let shares = try JSONDecoder().decode([Double].self, from: Data((latest.first?[0] ?? "[]").utf8))
        for (arm, share) in zip(["calm", "bold", "urgent"], shares) {
            if case .number(let shown?)? = page.tables["conversion"]?[arm]?["traffic"] {
                #expect(abs(shown - share) < 1e-12)
            } else {
                Issue.record("no traffic share for \(arm)")
            }
        }
        // urgent converts best and slows pages: the verdict names it, the guardrail warns.
        #expect(page.verdict?.hasPrefix("urgent leads on conversion") == true, "\(page.verdict ?? "no verdict")")
        #expect(page.warnings.contains { $0.contains("guardrail 'latency_ms' moves the wrong way for arm 'urgent'") }, "\(page.warnings)")

        // Each plot drew a series per arm, at a visible size.
        for chart in ["cumulative-mean", "traffic-allocation", "decisions-per-hour", "posteriors"] {
            let drawn = page.charts[chart]
            #expect(drawn?.series.map(\.name).sorted() == ["bold", "calm", "urgent"], "\(chart): \(String(describing: drawn))")
            #expect(drawn?.series.allSatisfy { $0.points >= 1 } == true, "\(chart) has an empty series")
            #expect((drawn?.width ?? 0) > 300 && (drawn?.height ?? 0) > 100, "\(chart) is not visible")
        }
        #expect(page.charts["cumulative-mean"]?.bands.sorted() == ["bold", "calm", "urgent"])
        #expect(page.charts["posteriors"]?.series.allSatisfy { $0.points == 121 } == true)
        #expect(page.listRow.found == 1 && page.listRow.decisions == "400")
        #expect(FileManager.default.fileExists(atPath: Self.screenshot))
    }

    @Test("a model experiment's page shows each model's predictions and output classes as the view has them, and plots the distribution")
    func modelExperimentInChromium() async throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is missing: run scripts/install-deps")
        let python = try await Self.run("/bin/sh", ["-c", "\(Self.root)/scripts/python-env"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await TestStores.stores()  // migrated
        let fixture = PredictionTests.fixture
        let replicas = try await ThreeReplicasTests.start(count: 1, arguments: ["--plugin-dir", fixture.folder])
        defer { ThreeReplicasTests.stop(replicas) }
        let base = replicas[0].base
        let fitted = TestStores.uniqueKey("iris"), reversed = TestStores.uniqueKey("reversed")
        for (name, model) in [(fitted, fixture.iris), (reversed, fixture.reversed)] {
            let r = try await ThreeReplicasTests.request(base + "/v1/backends", method: "POST",
                                                         json: #"{"name": "\#(name)", "path": "\#(fixture.library)", "model": "\#(model)"}"#)
            try #require(r.status == 201, "\(String(decoding: r.body, as: UTF8.self))")
        }
        let key = TestStores.uniqueKey("models")
        let created = try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST", json: """
            {"key": "\(key)", "arms": [{"name": "fitted", "backend": "\(fitted)"}, {"name": "reversed", "backend": "\(reversed)"}],
             "policy": {"name": "weighted-split"}}
            """)
        try #require(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        // Each request classifies two flowers, drawn from the three species.
        let flowers = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5], [6.3, 2.5, 5.0, 1.9]]
        var rng = SplitMix64(seed: 17)
        for i in 0..<60 {
            let rows = (0..<2).flatMap { _ in flowers[Int(rng.nextUnit() * 3) % 3] }
            let inputs = #"[{"name": "input", "datatype": "FP32", "shape": [2, 4], "data": \#(rows)}]"#
            let r = try await ThreeReplicasTests.request(base + "/v1/experiments/\(key)/predict", method: "POST",
                                                         json: #"{"unit": "u\#(i)", "inputs": \#(inputs)}"#)
            try #require(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
        }
        let screenshot = (Self.screenshot as NSString).deletingPathExtension + "-model.png"
        try FileManager.default.createDirectory(atPath: (screenshot as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let output = NSTemporaryDirectory() + "results-page-\(key).json"
        _ = try await Self.run(python, [Self.root + "/Tests/Browser/results_page.py", "--base", base, "--experiment", key,
                                        "--screenshot", screenshot, "--output", output, "--chromium", chromium])
        let page = try JSONDecoder().decode(RenderedPage.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(page.status == 200)

        // Predictions per model and each class's share equal the views'.
        let decisions = try await TestStores.query(
            "SELECT arm, decisions::text FROM switchboard.arm_decisions WHERE experiment = $1 AND phase IS NULL ORDER BY arm_index", [key])
        #expect(decisions.count == 2)
        for row in decisions {
            let arm = row[0] ?? ""
            #expect(page.predictions[arm]?["predictions"] == (row[1] ?? nil).flatMap(Double.init), "\(arm): \(String(describing: page.predictions[arm]))")
        }
        let classes = try await TestStores.query(
            "SELECT arm, class::text, output_rows::text, share::text FROM switchboard.output_classes WHERE experiment = $1 AND phase IS NULL", [key])
        #expect(classes.count >= 4)
        var rowsPerArm: [String: Double] = [:]
        for row in classes {
            let arm = row[0] ?? "", shown = page.predictions[arm]?["class \(row[1] ?? "")"] ?? nil
            let share = try #require((row[3] ?? nil).flatMap(Double.init))
            #expect(shown.map { abs($0 - share) <= 1e-12 } == true, "\(arm) class \(row[1] ?? ""): page \(String(describing: shown)), SQL \(share)")
            rowsPerArm[arm, default: 0] += (row[2] ?? nil).flatMap(Double.init) ?? 0
        }
        for (arm, rows) in rowsPerArm {
            #expect(page.predictions[arm]?["classified-rows"] == rows)
            #expect(rows == 2 * (page.predictions[arm]?["predictions"].flatMap { $0 } ?? 0))  // two rows a request
        }
        // The distribution is plotted: a series per class shown, a bar per model.
        let chart = try #require(page.charts["output-classes"])
        #expect(Set(chart.series.map(\.name)) == Set(page.predictions.values.flatMap(\.keys).filter { $0.hasPrefix("class ") }))
        #expect(chart.series.allSatisfy { $0.points >= 1 } && chart.width > 300 && chart.height > 100)
    }

    /// What `Tests/Browser/results_page.py` read from the rendered page.
    struct RenderedPage: Decodable {
        enum Cell: Decodable {
            case number(Double?)
            case pair([Double?])
            case text(String)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .number(nil) } else if let v = try? c.decode(Double.self) { self = .number(v) }
                else if let p = try? c.decode([Double?].self) { self = .pair(p) } else { self = .text(try c.decode(String.self)) }
            }
        }
        struct WithoutKey: Decodable {
            var status: Int
            var loginForm: Int
            var tables: Int
            enum CodingKeys: String, CodingKey { case status, tables; case loginForm = "login_form" }
        }
        struct Chart: Decodable {
            struct Series: Decodable { var name: String; var points: Int }
            var series: [Series]
            var bands: [String]
            var width: Double
            var height: Double
        }
        struct ListRow: Decodable { var found: Int; var decisions: String? }

        var withoutKey: WithoutKey?
        var wrongKeyTables: Int?
        var cookieHttpOnly: Bool?
        var cookieReadableByScript: String?
        var status: Int
        var verdict: String?
        var warnings: [String]
        var tables: [String: [String: [String: Cell]]]
        /// Per arm of a model experiment: predictions, classified rows, and each class's share.
        var predictions: [String: [String: Double?]]
        var charts: [String: Chart]
        var listRow: ListRow

        enum CodingKeys: String, CodingKey {
            case status, verdict, warnings, tables, predictions, charts
            case withoutKey = "without_key"
            case wrongKeyTables = "wrong_key_tables"
            case cookieHttpOnly = "cookie_http_only"
            case cookieReadableByScript = "cookie_readable_by_script"
            case listRow = "list_row"
        }
    }

    /// Runs a program to completion on a thread of its own (not the cooperative pool);
    /// throws with its output unless it exits 0.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let outcome = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ChildProcess.Outcome, any Error>) in
            Thread { continuation.resume(with: Result { try ChildProcess.run(executable, arguments) }) }.start()
        }
        guard outcome.status == 0 else {
            throw BrowserTestError(description: "\(executable) \(arguments.first ?? "") exited \(outcome.status): \(outcome.output.suffix(2_000))")
        }
        return outcome.output
    }

    struct BrowserTestError: Error, CustomStringConvertible { var description: String }
}
