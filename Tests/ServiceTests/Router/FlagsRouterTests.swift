@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import PluginSupport
import TestSupport
import Testing

/// OFREP evaluation, bulk evaluation with ETags, typed arm values and tracking, through
/// the router on in-memory stores (the SDK from PyPI drives a live service in
/// `OpenFeatureClientsTests`).
@Suite("OpenFeature flags through the router, on in-memory stores")
struct FlagsRouterTests {
    typealias Evaluation = FlagsController<BasicRequestContext>.Evaluation
    typealias Track = FlagsController<BasicRequestContext>.TrackResponse

    struct Failure: Decodable { var key: String?; var errorCode: String; var errorDetails: String }

    static func flag(_ client: some TestClientProtocol, _ body: String) async throws {
        let r = try await client.send(.post, "/v1/experiments", json: body)
        #expect(r.status == .created, "\(String(buffer: r.body))")
    }

    @Test("a flag is an experiment: the unit's variant, its typed value, SPLIT or DISABLED, and the decision in metadata")
    func single() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            try await Self.flag(client, ##"{"key": "color", "arms": [{"name": "blue", "value": "#0000ff"}, {"name": "green", "value": {"hex": "#00ff00", "dark": false}}]}"##)
            var variants = Set<String>()
            for i in 0..<30 {
                let r = try await client.send(.post, "/ofrep/v1/evaluate/flags/color", json: #"{"context": {"targetingKey": "u\#(i)", "country": "NZ"}}"#)
                #expect(r.status == .ok)
                let e = try r.decode(Evaluation.self)
                #expect(e.key == "color" && e.reason == "SPLIT")
                #expect(e.value == (e.variant == "blue" ? .string("#0000ff") : .object(["hex": .string("#00ff00"), "dark": .bool(false)])))
                guard case .string(let id)? = e.metadata["decision_id"], let uuid = UUID(uuidString: id) else {
                    Issue.record("no decision id: \(e.metadata)")
                    continue
                }
                #expect(try await memory.decisionLog.decisions(ids: [uuid])[uuid]?.unit == "u\(i)")
                variants.insert(e.variant)
            }
            #expect(variants == ["blue", "green"])
            // Paused: every unit gets the control arm, reason DISABLED.
            #expect(try await client.send(.post, "/v1/experiments/color/pause").status == .ok)
            let paused = try await client.send(.post, "/ofrep/v1/evaluate/flags/color", json: #"{"context": {"targetingKey": "u1"}}"#).decode(Evaluation.self)
            #expect(paused.reason == "DISABLED" && paused.variant == "blue" && paused.value == .string("#0000ff"))
            // Without a value, an arm's value is its name.
            try await Self.flag(client, #"{"key": "plain", "arms": [{"name": "off"}, {"name": "on"}]}"#)
            let plain = try await client.send(.post, "/ofrep/v1/evaluate/flags/plain", json: #"{"context": {"targetingKey": "u1"}}"#).decode(Evaluation.self)
            #expect(plain.value == .string(plain.variant))
        }
    }

    @Test("errors in OFREP's shape: FLAG_NOT_FOUND, TARGETING_KEY_MISSING, INVALID_CONTEXT, PARSE_ERROR, GENERAL; 429 with Retry-After when overloaded")
    func errors() async throws {
        try await withMemoryApp { client in
            try await Self.flag(client, #"{"key": "aged", "arms": [{"name": "a"}, {"name": "b"}], "context_features": ["age"]}"#)
            try await Self.flag(client, #"{"key": "later", "arms": [{"name": "a"}], "status": "draft"}"#)
            let cases: [(String, String, HTTPResponse.Status, String, String)] = [
                ("/ofrep/v1/evaluate/flags/missing", #"{"context": {"targetingKey": "u"}}"#, .notFound, "FLAG_NOT_FOUND", "no experiment has the key 'missing'"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": {"age": 3}}"#, .badRequest, "TARGETING_KEY_MISSING", "no targetingKey"),
                ("/ofrep/v1/evaluate/flags/aged", #"{}"#, .badRequest, "TARGETING_KEY_MISSING", "no targetingKey"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": {"targetingKey": 7}}"#, .badRequest, "INVALID_CONTEXT", "targetingKey must be a string"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": {"targetingKey": "u"}}"#, .badRequest, "INVALID_CONTEXT", "needs the context attribute 'age'"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": {"targetingKey": "u", "age": "old"}}"#, .badRequest, "INVALID_CONTEXT", "'age' must be a number"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": "#, .badRequest, "PARSE_ERROR", "not valid JSON"),
                ("/ofrep/v1/evaluate/flags/aged", #"{"context": [1]}"#, .badRequest, "PARSE_ERROR", "context"),
                ("/ofrep/v1/evaluate/flags/later", #"{"context": {"targetingKey": "u"}}"#, .badRequest, "GENERAL", "is a draft"),
            ]
            for (path, body, status, code, detail) in cases {
                let r = try await client.send(.post, path, json: body)
                #expect(r.status == status, "\(path) \(body): \(r.status) \(String(buffer: r.body))")
                let failure = try r.decode(Failure.self)
                #expect(failure.errorCode == code && failure.errorDetails.contains(detail), "\(body): \(failure)")
                if path.hasSuffix("/missing") { #expect(failure.key == "missing") }
            }
        }
        let overloaded = FlagEvaluationError(Problem.from(ServiceError.overloaded("the write queue is full")), path: "/ofrep/v1/evaluate/flags/x").response()
        #expect(overloaded.status == .tooManyRequests && overloaded.headers[.retryAfter] == "1")
    }

    @Test("bulk evaluation: every flag that serves units, an ETag that a 304 honours without assigning, a new ETag after a change")
    func bulk() async throws {
        try await withMemoryApp { client in
            try await Self.flag(client, #"{"key": "a-flag", "arms": [{"name": "off", "value": false}, {"name": "on", "value": true}]}"#)
            try await Self.flag(client, #"{"key": "b-flag", "arms": [{"name": "x"}, {"name": "y"}], "context_features": ["age"]}"#)
            try await Self.flag(client, #"{"key": "c-draft", "arms": [{"name": "x"}], "status": "draft"}"#)
            let body = #"{"context": {"targetingKey": "u1", "age": 40}}"#
            let first = try await client.send(.post, "/ofrep/v1/evaluate/flags", json: body)
            #expect(first.status == .ok)
            let etag = try #require(first.headers[.eTag])
            let flags = try #require(try JSONSerialization.jsonObject(with: Data(first.body.readableBytesView)) as? [String: Any])["flags"] as? [[String: Any]]
            #expect(flags?.compactMap { $0["key"] as? String } == ["a-flag", "b-flag"])
            func decisions() async throws -> Int {
                var total = 0
                for key in ["a-flag", "b-flag"] {
                    total += try await client.send(.get, "/v1/experiments/\(key)/results").decode(ResultsView.self).results.arms.map(\.decisions).reduce(0, +)
                }
                return total
            }
            #expect(try await decisions() == 2)
            // The same context and flags: 304, and nothing is assigned.
            var headers: HTTPFields = [.contentType: "application/json", .ifNoneMatch: etag]
            let again = try await client.execute(uri: "/ofrep/v1/evaluate/flags", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(again.status == .notModified && again.body.readableBytes == 0 && again.headers[.eTag] == etag)
            #expect(try await decisions() == 2)
            // Another context, or a changed flag, is another ETag.
            let other = try await client.send(.post, "/ofrep/v1/evaluate/flags", json: #"{"context": {"targetingKey": "u2", "age": 40}}"#)
            #expect(other.headers[.eTag] != etag)
            #expect(try await client.send(.patch, "/v1/experiments/a-flag", json: #"{"arms": [{"name": "on", "weight": 3}]}"#).status == .ok)
            let changed = try await client.execute(uri: "/ofrep/v1/evaluate/flags", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(changed.status == .ok && changed.headers[.eTag] != etag)
            // A flag that fails for this context is an error entry; the others evaluate.
            headers[.ifNoneMatch] = nil
            let partial = try await client.execute(uri: "/ofrep/v1/evaluate/flags", method: .post, headers: headers,
                                                   body: ByteBuffer(string: #"{"context": {"targetingKey": "u3"}}"#))
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(partial.body.readableBytesView)) as? [String: Any])["flags"] as? [[String: Any]]
            #expect(entries?.first { $0["key"] as? String == "b-flag" }?["errorCode"] as? String == "INVALID_CONTEXT")
            #expect(entries?.first { $0["key"] as? String == "a-flag" }?["variant"] != nil)
        }
    }

    @Test("arm values: typed, checked, kept through changes; a changed value is refused (null is no value)")
    func values() async throws {
        try await withMemoryApp { client in
            for (arms, detail) in [
                (#"[{"name": "a", "value": [1, 2]}]"#, "must be a string, boolean, number or JSON object"),
                (#"[{"name": "a", "value": {"k": "x\u0000y"}}]"#, "must not contain the NUL character"),
                (#"[{"name": "a", "value": "\u0000"}]"#, "must not contain the NUL character"),
                (#"[{"name": "a", "value": "\#(String(repeating: "x", count: 5000))"}]"#, "at most 4096"),
            ] {
                let r = try await client.send(.post, "/v1/experiments", json: #"{"key": "v", "arms": \#(arms)}"#)
                #expect(try r.status == .unprocessableContent && r.problem().detail.contains(detail), "\(String(buffer: r.body).prefix(200))")
            }
            try await Self.flag(client, #"{"key": "v", "arms": [{"name": "a", "value": 1.5}]}"#)
            let refused = try await client.send(.patch, "/v1/experiments/v", json: #"{"arms": [{"name": "a", "value": 2}]}"#)
            #expect(try refused.status == .unprocessableContent && refused.problem().detail.contains("cannot change on an existing arm"))
            #expect(try await client.send(.patch, "/v1/experiments/v", json: #"{"arms": [{"name": "b", "value": {"n": 2}}]}"#).status == .ok)
            let shown = try await client.send(.get, "/v1/experiments/v")
            let arms = try #require(try JSONSerialization.jsonObject(with: Data(shown.body.readableBytesView)) as? [String: Any])["arms"] as? [[String: Any]]
            #expect(arms?.first?["value"] as? Double == 1.5 && (arms?.last?["value"] as? [String: Any])?["n"] as? Int == 2)
        }
    }

    @Test("a tracking event rewards the unit's latest decision in each experiment declaring the metric")
    func track() async throws {
        let memory = InMemoryStores()
        try await withMemoryApp(memory) { client in
            try await Self.flag(client, #"{"key": "shop", "arms": [{"name": "a"}, {"name": "b"}], "metrics": [{"name": "purchase", "kind": "binary", "primary": true}]}"#)
            try await Self.flag(client, #"{"key": "promo", "arms": [{"name": "a"}, {"name": "b"}], "metrics": [{"name": "clicks", "kind": "count", "primary": true}, {"name": "purchase", "kind": "binary"}]}"#)
            try await Self.flag(client, #"{"key": "unrelated", "arms": [{"name": "a"}]}"#)
            var last: [String: String] = [:]
            for key in ["shop", "shop", "promo", "unrelated"] {
                let e = try await client.send(.post, "/ofrep/v1/evaluate/flags/\(key)", json: #"{"context": {"targetingKey": "u1"}}"#).decode(Evaluation.self)
                if case .string(let id)? = e.metadata["decision_id"] { last[key] = id }
            }
            let tracked = try await client.send(.post, "/v1/track", json: #"{"event": "purchase", "context": {"targetingKey": "u1"}}"#).decode(Track.self)
            #expect(tracked.rewards.map(\.experiment) == ["promo", "shop"] && tracked.rewards.allSatisfy { $0.status == "recorded" })
            #expect(tracked.rewards.map(\.decisionID) == [last["promo"], last["shop"]].compactMap { $0 })
            // The same event again is a duplicate; another value for it is a conflict.
            let twice = try await client.send(.post, "/v1/track", json: #"{"event": "purchase", "context": {"targetingKey": "u1"}, "value": 1}"#).decode(Track.self)
            #expect(twice.rewards.allSatisfy { $0.status == "duplicate" })
            #expect(try await client.send(.post, "/v1/track", json: #"{"event": "purchase", "context": {"targetingKey": "u1"}, "value": 0}"#).status == .conflict)
            // A unit with no decision, a filter, an experiment not declaring the metric.
            let nobody = try await client.send(.post, "/v1/track", json: #"{"event": "purchase", "context": {"targetingKey": "u9"}}"#).decode(Track.self)
            #expect(nobody.rewards.isEmpty && nobody.withoutDecision == ["promo", "shop"])
            let r = try await client.send(.post, "/v1/track", json: #"{"event": "clicks", "context": {"targetingKey": "u1"}, "value": 3, "experiments": ["unrelated"]}"#)
            #expect(try r.status == .unprocessableContent && r.problem().detail.contains("'unrelated' is not an experiment that declares the metric 'clicks'"))
            let missing = try await client.send(.post, "/v1/track", json: #"{"event": "clicks", "context": {}}"#)
            #expect(missing.status == .badRequest)
        }
    }
}
