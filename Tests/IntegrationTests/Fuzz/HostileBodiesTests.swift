@testable import ExperimentService
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Thousands of generated hostile bodies against a live `switchboard serve`: no answer is a
/// 5xx other than 503, and the process is alive at the end.
@Suite("Hostile bodies: no 5xx, no crash", .serialized)
struct HostileBodiesTests {
    /// A seeded generator, so a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static let numbers = ["0", "-0", "1", "-1", "0.5", "1e308", "-1.7e308", "1e400", "-1e400", "4.9e-324", "9223372036854775807",
                          "9223372036854775808", "-9223372036854775809", "18446744073709551616", "16777216", "4294967296",
                          "2147483648", "1e12", "1.0000000000001e12", "123456789012345678901234567890", "NaN", "Infinity", "-", "1e", "0x10"]
    static let strings = [#""""#, #""u""#, #""a\u0000b""#, #""\ud800""#, #""\udfff\ud800""#, #""日本語🎲""#, #""\n\t\"\\""#,
                          #""01900000-0000-7000-8000-000000000000""#, #""not-a-uuid""#, #""FP32""#, #""INT64""#, #""BOOL""#, #""FP16""#,
                          #""reward""#, #""clicks""#, #""Bad Metric""#, #""input""#]

    /// A JSON value of any kind, sometimes malformed.
    static func value(_ g: inout Generator, depth: Int) -> String {
        switch g.below(depth > 4 ? 4 : 9) {
        case 0: return g.pick(numbers)
        case 1: return g.pick(strings)
        case 2: return g.pick(["true", "false", "null"])
        case 3: return "\"" + String(repeating: g.pick(["x", "é", "🎲", "\\u0000"]), count: g.pick([1, 100, 5_000])) + "\""
        case 4, 5: return "[" + (0..<g.below(6)).map { _ in value(&g, depth: depth + 1) }.joined(separator: ",") + "]"
        case 6: return tensor(&g)
        default:
            let keys = ["unit", "context", "inputs", "decision_id", "reward", "metric", "rewards", "parameters", "id", "name", "datatype",
                        "shape", "data", "age", "x", ""]
            return "{" + (0..<g.below(6)).map { _ in "\"\(g.pick(keys))\":" + value(&g, depth: depth + 1) }.joined(separator: ",") + "}"
        }
    }

    /// A tensor-shaped object with absurd shapes, types and data.
    static func tensor(_ g: inout Generator) -> String {
        let sizes = ["1", "4", "0", "-1", "-4", "16777216", "4294967296", "9223372036854775807", "1e3", "2.5", "\"4\""]
        let shape = "[" + (0..<g.pick([0, 1, 2, 3, 9])).map { _ in g.pick(sizes) }.joined(separator: ",") + "]"
        let data = g.chance(50) ? "[5.1, 3.5, 1.4, 0.2]" : "[" + (0..<g.below(20)).map { _ in g.pick(numbers + ["true", "false", "\"1\""]) }.joined(separator: ",") + "]"
        return #"{"name": \#(g.pick([#""input""#, #""other""#, "1"])), "datatype": \#(g.pick(["\"FP32\"", "\"FP64\"", "\"INT32\"", "\"INT64\"", "\"BOOL\"", "\"STRING\"", "7"])), "shape": \#(shape), "data": \#(data)}"#
    }

    /// A body for a route: usually its own shape with hostile values, sometimes anything.
    static func body(_ g: inout Generator, route: Int, decisions: [String]) -> String {
        if g.chance(10) { return String(value(&g, depth: 0).prefix(g.chance(20) ? g.below(40) : 100_000)) }  // also truncated
        if g.chance(5) { return String(decoding: (0..<g.below(200)).map { _ in UInt8(g.below(256)) }, as: UTF8.self) }
        func unit() -> String { g.chance(80) ? #""u-\#(g.below(50))""# : value(&g, depth: 3) }
        func context() -> String { g.chance(50) ? "" : #", "context": \#(g.chance(50) ? #"{"age": \#(g.pick(numbers))}"# : value(&g, depth: 3))"# }
        func inputs() -> String { "[" + (0..<g.pick([0, 1, 1, 1, 2, 65])).map { _ in g.chance(85) ? tensor(&g) : value(&g, depth: 3) }.joined(separator: ",") + "]" }
        switch route {
        case 5:
            // An OpenFeature evaluation context: a targeting key of any shape, attributes of any shape.
            let key = g.chance(70) ? #""targetingKey": \#(unit()), "# : ""
            return g.chance(80) ? #"{"context": {\#(key)"age": \#(g.pick(numbers)), "x": \#(value(&g, depth: 2))}}"# : #"{"context": \#(value(&g, depth: 3))}"#
        case 4: return change(&g)
        case 0: return #"{"unit": \#(unit())\#(context())}"#
        case 1: return #"{"unit": \#(unit())\#(context()), "inputs": \#(inputs())}"#
        case 2:
            func reward() -> String {
                let id = g.chance(70) && !decisions.isEmpty ? "\"\(g.pick(decisions))\"" : value(&g, depth: 3)
                let metric = g.chance(60) ? "" : #", "metric": \#(g.pick(strings))"#
                return #"{"decision_id": \#(id), "reward": \#(g.chance(60) ? g.pick(["0", "1"]) : g.pick(numbers))\#(metric)}"#
            }
            return g.chance(70) ? reward() : #"{"rewards": [\#((0..<g.pick([0, 1, 3, 1001])).map { _ in reward() }.joined(separator: ","))]}"#
        default:
            let parameters = g.chance(50) ? "" : #""parameters": \#(g.chance(70) ? #"{"unit": \#(unit())}"# : value(&g, depth: 3)), "#
            return #"{\#(parameters)"inputs": \#(inputs())}"#
        }
    }

    /// A change of a running experiment (`PATCH`): arms with absurd weights and names, many
    /// arms, configs and metrics of any shape.
    static func change(_ g: inout Generator) -> String {
        func arm() -> String {
            let name = g.chance(70) ? g.pick([#""a""#, #""b""#, "\"c\(g.below(300))\""]) : value(&g, depth: 3)
            let weight = g.chance(60) ? #", "weight": \#(g.chance(50) ? g.pick(["0", "1", "3"]) : g.pick(numbers))"# : ""
            let retired = g.chance(30) ? #", "retired": \#(g.pick(["true", "false", "1", "null"]))"# : ""
            return #"{"name": \#(name)\#(weight)\#(retired)}"#
        }
        func metric() -> String {
            #"{"name": \#(g.chance(50) ? #""reward""# : g.pick(strings)), "kind": \#(g.pick(["\"binary\"", "\"count\"", "\"continuous\"", "\"x\"", "1"])), "primary": \#(g.pick(["true", "false", "0"]))}"#
        }
        var fields: [String] = []
        if g.chance(70) { fields.append(#""arms": [\#((0..<g.pick([0, 1, 2, 5, 300])).map { _ in arm() }.joined(separator: ","))]"#) }
        if g.chance(25) { fields.append(#""policy": {"config": \#(value(&g, depth: 3))}"#) }
        if g.chance(25) { fields.append(#""metrics": [\#((0..<g.pick([0, 1, 2, 40])).map { _ in metric() }.joined(separator: ","))]"#) }
        if g.chance(20) { fields.append(#""analysis": \#(g.pick(["\"sequential\"", "\"fixed_horizon\"", "\"x\"", "1"]))"#) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    @Test("2,500 generated bodies at assign, predict, rewards, V2 infer, PATCH of an experiment and OFREP evaluation: never a 5xx but 503, and the server lives")
    func hostileBodies() async throws {
        _ = try await TestStores.stores()
        let fixture = PredictionTests.fixture
        let replica = try await ThreeReplicasTests.start(count: 1, arguments: ["--plugin-dir", fixture.folder])[0]
        defer { ThreeReplicasTests.stop([replica]) }
        let base = replica.base
        let model = TestStores.uniqueKey("fuzz-model")
        let registered = try await ThreeReplicasTests.request(base + "/v1/backends", method: "POST",
                                                              json: #"{"name": "\#(model)", "path": "\#(fixture.library)", "model": "\#(fixture.iris)"}"#)
        #expect(registered.status == 201, "\(String(decoding: registered.body, as: UTF8.self))")
        let bandit = TestStores.uniqueKey("fuzz-bandit"), predict = TestStores.uniqueKey("fuzz-predict")
        for json in [#"{"key": "\#(bandit)", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "linucb"}, "context_features": ["age"]}"#,
                     #"{"key": "\#(predict)", "arms": [{"name": "m1", "backend": "\#(model)"}, {"name": "m2", "backend": "\#(model)"}], "policy": {"name": "thompson"}}"#] {
            #expect(try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST", json: json).status == 201)
        }
        var decisions: [String] = []
        for i in 0..<20 {
            let a = try await ThreeReplicasTests.request(base + "/v1/experiments/\(bandit)/assign", method: "POST", json: #"{"unit": "seed-\#(i)", "context": {"age": 1}}"#)
            decisions.append(try JSONDecoder().decode(AssignResponse.self, from: a.body).decisionID)
        }
        let split = TestStores.uniqueKey("fuzz-split")
        #expect(try await ThreeReplicasTests.request(base + "/v1/experiments", method: "POST",
                                                     json: #"{"key": "\#(split)", "arms": [{"name": "a"}, {"name": "b"}]}"#).status == 201)
        let paths = ["/v1/experiments/\(bandit)/assign", "/v1/experiments/\(predict)/predict", "/v1/rewards", "/v2/models/\(predict)/infer",
                     "/v1/experiments/\(split)", "/ofrep/v1/evaluate/flags/\(bandit)"]
        var generator = Generator(state: 20_261_206)
        var requests: [(route: Int, body: String)] = []
        for _ in 0..<2_500 {
            let route = generator.below(6)
            requests.append((route, Self.body(&generator, route: route, decisions: decisions)))
        }
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            var answers: [(Int, String?)] = []
            for (i, request) in requests.enumerated() {
                if i >= 8, let answer = try await group.next() { answers.append(answer) }
                group.addTask {
                    let method = request.route == 4 ? "PATCH" : "POST"
                    let (status, body) = try await ThreeReplicasTests.request(base + paths[request.route], method: method, json: request.body)
                    guard status >= 500 && status != 503 else { return (status, nil) }
                    return (status, "\(status) for \(method) \(paths[request.route]) \(request.body.prefix(300)) → \(String(decoding: body, as: UTF8.self).prefix(300))")
                }
            }
            for try await answer in group { answers.append(answer) }
            return answers
        }
        let failures = answers.compactMap(\.1)
        let statuses = Dictionary(grouping: answers.map(\.0), by: { $0 }).mapValues(\.count)
        // The bodies reach every kind of answer: accepted, malformed, invalid, unknown.
        #expect(statuses[200, default: 0] >= 100 && statuses[400, default: 0] >= 100 && statuses[422, default: 0] >= 500, "\(statuses)")
        #expect(failures.isEmpty, "\(failures.count) answers were 5xx:\n\(failures.prefix(5).joined(separator: "\n"))")
        #expect(replica.process.isRunning, "the server died")
        // The experiment changed many times and still assigns by its current weights.
        let view = try JSONDecoder().decode(ExperimentView.self, from: try await ThreeReplicasTests.request(base + "/v1/experiments/\(split)", method: "GET").body)
        #expect(view.phase > 1, "no PATCH was accepted")
        #expect(try await ThreeReplicasTests.request(base + "/v1/experiments/\(split)/assign", method: "POST", json: #"{"unit": "after"}"#).status == 200)
        #expect(try await ThreeReplicasTests.request(base + "/healthz", method: "GET").status == 200)
    }
}
