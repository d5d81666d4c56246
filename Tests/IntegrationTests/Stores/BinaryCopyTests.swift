@testable import ExperimentService
import Foundation
import Hummingbird
import PluginHost
import PluginSupport
import Testing

@Suite("Binary COPY of decisions through the server")
struct BinaryCopyTests {

    @Test("binary COPY rows round-trip any text, UUID, number, JSON, array and NULL through the server")
    func binaryCopy() async throws {
        _ = try await TestStores.stores()
        let texts: [String?] = TestSupport.awkwardTexts.filter { !$0.contains("\u{01}") } + [nil]
        let ids = texts.indices.map { _ in UUID() }
        let doubles = [0.1, -3e-300, 1.0 / 3, 0, 12345.678, .greatestFiniteMagnitude, -1, 2.5e-7, 7]
        let table = "copy_check_\(TestStores.uniqueKey("t").replacingOccurrences(of: "-", with: "_"))"
        var copy = PostgresBinaryCopy()
        for (n, text) in texts.enumerated() {
            copy.beginRow(fields: 8)
            copy.append(int4: Int32(n))
            if let text { copy.append(text: text) } else { copy.appendNull() }
            copy.append(uuid: ids[n])
            copy.append(float8: doubles[n])
            copy.append(int8: n == 0 ? .min : Int64(n) << 40)
            if n == 3 { copy.appendNull() } else { copy.append(int4: n == 0 ? .min : Int32(n) - 5) }
            if let text { copy.append(jsonb: JSONText.object([text: doubles[n]])) } else { copy.appendNull() }
            var array = PostgresBinaryArray(.float8)
            for value in doubles.prefix(n) { array.append(float8: value) }
            if n == 2 { array.appendNull() }
            copy.append(array: array)
        }
        let stream = copy.finished()
        let rows = try await TestStores.database.withConnection { conn in
            try conn.execute(script: "CREATE TABLE \(table) (n int4, a text, b uuid, c float8, d int8, e int4, f jsonb, g float8[])")
            let before = try conn.copyIn("SELECT 'before'; COPY \(table) FROM STDIN (FORMAT binary)", data: stream)
            #expect(before.count == 2 && before[0].rows == [["before"]])
            defer { _ = try? conn.execute(script: "DROP TABLE \(table)") }
            return try conn.query("SELECT a, b::text, c::text, d::text, e::text, f::text, g::text FROM \(table) ORDER BY n").rows
        }
        #expect(rows.map { $0[0] } == texts)
        #expect(rows.map { $0[1] } == ids.map { $0.uuidString.lowercased() })
        #expect(rows.map { Double($0[2]!)! } == Array(doubles.prefix(texts.count)))
        #expect(rows.map { Int64($0[3]!)! } == texts.indices.map { $0 == 0 ? .min : Int64($0) << 40 })
        #expect(rows.map { $0[4].flatMap { Int32($0) } } == texts.indices.map { $0 == 3 ? nil : ($0 == 0 ? .min : Int32($0) - 5) })
        for (n, row) in rows.enumerated() {
            if let text = texts[n] {
                let json = try #require(row[5])
                #expect(try JSONDecoder().decode([String: Double].self, from: Data(json.utf8)) == [text: doubles[n]])
            } else {
                #expect(row[5] == nil)
            }
        }
        #expect(rows[0][6] == "{}" && rows[1][6] == "{0.1}" && rows[2][6] == "{0.1,-3e-300,NULL}")
    }

    @Test("a failed COPY leaves no rows, reports the server's error, and the connection keeps working")
    func failedCopy() async throws {
        let stores = try await TestStores.stores()
        let key = TestStores.uniqueKey("copyfail")
        let catalog = ExperimentCatalog(repository: stores.repository, registry: TestStores.policies)
        _ = try await catalog.create(ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b")]))
        let good = Decision(id: DecisionID.make(), experiment: key, armIndex: 0, unit: "u", propensity: 1, context: nil, policy: "p@1", seed: 1)
        var invalid = good
        invalid.id = DecisionID.make()
        invalid.propensity = 0   // violates the CHECK on propensity
        let written = PostgresBatchWriter(url: TestStores.databaseURL).write([.decision(good, nil), .decision(invalid, nil)])
        guard case .failure(let caught) = written else { Issue.record("the batch was written"); return }
        #expect(caught.code == .serverError && caught.sqlState == "23514")
        #expect(try await TestStores.query("SELECT count(*)::text FROM switchboard.decisions WHERE experiment = $1", [key]) == [["0"]])
    }

    @Test("a batch of decisions is stored as written: probabilities per row, context and NULLs kept")
    func decisionBatch() async throws {
        let stores = try await TestStores.stores()
        let key = TestStores.uniqueKey("bin")
        let catalog = ExperimentCatalog(repository: stores.repository, registry: TestStores.policies)
        _ = try await catalog.create(ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b"), .init(name: "c")]))
        let decisions = [
            Decision(id: DecisionID.make(), experiment: key, armIndex: 2, unit: "u \"1\"", propensity: 0.25, context: ["x": 1.5, "y": -2],
                     policy: "thompson@1", seed: .max, probabilities: [0.5, 0.25, 0.25]),
            Decision(id: DecisionID.make(), experiment: key, armIndex: 0, unit: "日本", propensity: 1, context: nil,
                     policy: "weighted-split@1", seed: 0, probabilities: nil),
            Decision(id: DecisionID.make(), experiment: key, armIndex: 1, unit: "", propensity: 1.0 / 3, context: [:],
                     policy: "uniform@1", seed: 42, probabilities: [1.0 / 3, 1.0 / 3, 1.0 / 3]),
        ]
        _ = try PostgresBatchWriter(url: TestStores.databaseURL).write(decisions.map { .decision($0, nil) }).get()
        let stored = try await TestStores.query("""
            SELECT id::text, arm_index::text, unit, propensity::text, context::text, policy, seed::text, probabilities::text
            FROM switchboard.decisions WHERE experiment = $1
            """, [key])
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0[0] ?? "", $0) })
        #expect(byID.count == 3)
        let rows = try decisions.map { d in try #require(byID[d.id.uuidString.lowercased()]) }
        for (row, d) in zip(rows, decisions) {
            #expect(row[1] == String(d.armIndex) && row[2] == d.unit)
            #expect(Double(row[3]!) == d.propensity && row[5] == d.policy && row[6] == String(Int64(bitPattern: d.seed)))
        }
        #expect(rows[0][4] == #"{"x": 1.5, "y": -2}"# && rows[1][4] == nil && rows[2][4] == "{}")
        #expect(rows[0][7] == "{0.5,0.25,0.25}" && rows[1][7] == nil)
        let third: Double = 1.0 / 3
        let thirds: [Double] = (rows[2][7] ?? "").dropFirst().dropLast().split(separator: ",").compactMap { Double($0) }
        #expect(thirds == [third, third, third])
    }
}
