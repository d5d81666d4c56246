import ExperimentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Bad requests get precise problem+json errors")
struct ErrorResponseTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method = .post
        var path: String
        var body: String?
        var status: HTTPResponse.Status
        var detail: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "malformed JSON", path: "/v1/experiments", body: #"{"key": "#, status: .badRequest, detail: "not valid JSON"),
        Case(name: "empty body", path: "/v1/experiments", body: nil, status: .badRequest, detail: "the body is empty"),
        Case(name: "missing field", path: "/v1/experiments", body: #"{"key": "x"}"#, status: .unprocessableContent, detail: "field 'arms' is required"),
        Case(name: "mistyped nested field", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": "1"}]}"#,
             status: .unprocessableContent, detail: "field 'arms[1].weight' must be a number"),
        Case(name: "null field", path: "/v1/experiments", body: #"{"key": null, "arms": []}"#, status: .unprocessableContent, detail: "field 'key' must not be null"),
        Case(name: "invalid key", path: "/v1/experiments", body: #"{"key": "Bad Key", "arms": [{"name": "a"}]}"#,
             status: .unprocessableContent, detail: "field 'key' must match [a-z0-9][a-z0-9_-]{0,62}; got 'Bad Key'"),
        Case(name: "repeated arm name", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a"}, {"name": "a"}]}"#,
             status: .unprocessableContent, detail: "field 'arms[1].name' repeats the arm name 'a'"),
        Case(name: "negative weight", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a", "weight": -1}]}"#,
             status: .unprocessableContent, detail: "field 'arms[0].weight' must be a finite number >= 0"),
        Case(name: "unknown control", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a"}], "control": "z"}"#,
             status: .unprocessableContent, detail: "field 'control' must name one of the arms"),
        Case(name: "unregistered policy", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a"}], "policy": {"name": "no-such-policy"}}"#,
             status: .unprocessableContent, detail: "policy 'no-such-policy' is not registered; registered policies: discounted-thompson@1, ensemble@1"),
        Case(name: "invalid policy config", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a"}], "policy": {"name": "thompson", "config": {"prior_alpha": -1}}}"#,
             status: .unprocessableContent, detail: "policy thompson@1 refused its config: 'prior_alpha' must be a number > 0"),
        Case(name: "unknown experiment on assign", path: "/v1/experiments/does-not-exist/assign", body: #"{"unit": "u"}"#,
             status: .notFound, detail: "no experiment has the key 'does-not-exist'"),
        Case(name: "unknown experiment on GET", method: .get, path: "/v1/experiments/does-not-exist", status: .notFound,
             detail: "no experiment has the key 'does-not-exist'"),
        Case(name: "missing unit", path: "/v1/experiments/does-not-exist/assign", body: #"{"context": {}}"#,
             status: .unprocessableContent, detail: "field 'unit' is required"),
        Case(name: "non-numeric context", path: "/v1/experiments/x/assign", body: #"{"unit": "u", "context": {"age": "old"}}"#,
             status: .unprocessableContent, detail: "field 'context.age' must be a number"),
        Case(name: "decision id that is not a UUID", path: "/v1/rewards", body: #"{"decision_id": "abc", "reward": 1}"#,
             status: .unprocessableContent, detail: "field 'decision_id' must be a UUID; got 'abc'"),
        Case(name: "unknown decision", path: "/v1/rewards", body: #"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1}"#,
             status: .notFound, detail: "no decision has the id '01900000-0000-7000-8000-000000000000'"),
        Case(name: "reward that is not a number", path: "/v1/rewards", body: #"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": "yes"}"#,
             status: .unprocessableContent, detail: "field 'reward' must be a number"),
        Case(name: "unknown route", method: .get, path: "/v1/nothing", status: .notFound, detail: "no route matches"),
        // What PostgreSQL or Redis would refuse is refused before it joins a batch with other clients' rows.
        Case(name: "unit with NUL", path: "/v1/experiments/does-not-exist/assign", body: #"{"unit": "a\u0000b"}"#,
             status: .unprocessableContent, detail: "field 'unit' must not contain the NUL character"),
        Case(name: "reward past the range", path: "/v1/rewards", body: #"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1.7e308}"#,
             status: .unprocessableContent, detail: "field 'reward' must be a finite number within ±1e12"),
        Case(name: "sticky TTL past Redis's range", path: "/v1/experiments",
             body: #"{"key": "x", "arms": [{"name": "a"}], "sticky_ttl_seconds": 9223372036854775807}"#,
             status: .unprocessableContent, detail: "field 'sticky_ttl_seconds' must be a positive number of seconds up to 315360000"),
        Case(name: "absurd weight", path: "/v1/experiments", body: #"{"key": "x", "arms": [{"name": "a", "weight": 1e300}]}"#,
             status: .unprocessableContent, detail: "field 'arms[0].weight' must be a finite number >= 0 and <= 1000000000"),
        // A shape whose element count passes Int.max used to abort the process before the look-up.
        Case(name: "predict shape past Int.max", path: "/v1/experiments/does-not-exist/predict",
             body: #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP32", "shape": [16777216, 16777216, 16777216], "data": [1]}]}"#,
             status: .unprocessableContent, detail: "field 'inputs[0].shape' holds more than 16777216 values"),
    ]

    @Test("each bad request is refused with its status and a precise detail", arguments: cases)
    func badRequest(_ c: Case) async throws {
        try await withApp { client in
            let response = try await client.send(c.method, c.path, json: c.body)
            #expect(response.status == c.status)
            let problem = try response.problem()
            #expect(problem.statusCode == c.status.code)
            #expect(problem.type.hasPrefix("urn:switchboard:problem:"))
            #expect(problem.detail.contains(c.detail), "detail was: \(problem.detail)")
        }
    }

    @Test("a taken experiment key is a 409 conflict")
    func duplicateKey() async throws {
        try await withApp { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("dup"))
            let again = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}]}"#)
            #expect(again.status == .conflict)
            #expect(try again.problem().detail == "an experiment with the key '\(key)' already exists")
        }
    }

    @Test("a body over 1 MiB is refused with 413")
    func bodyTooLarge() async throws {
        try await withApp { client in
            let big = #"{"unit": ""# + String(repeating: "x", count: 1 << 20) + #""}"#
            let response = try await client.send(.post, "/v1/experiments/x/assign", json: big)
            #expect(response.status == .contentTooLarge)
            #expect(try response.problem().detail.contains("larger than the limit"))
        }
    }
}
