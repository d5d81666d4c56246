@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import PluginHost
import Testing


/// Model backends registered over HTTP and predictions routed through experiments, on the
/// real stores, with the `linear` backend (compiled from policies/backends/linear.c).
@Suite("Model backends and predictions over HTTP")
struct PredictionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL.path

    /// A plugin folder holding the linear backend, the Iris model and a second model
    /// (the Iris weights negated: it ranks the classes the other way round).
    struct Fixture {
        let folder: String
        let policies: PolicyRegistry
        var library: String { folder + "/liblinear_backend.so" }
        var oipLibrary: String { folder + "/liboip_http_backend.so" }
        var iris: String { folder + "/iris" }
        var reversed: String { folder + "/reversed" }
    }

    static let fixture: Fixture = {
        let folder = NSTemporaryDirectory() + "switchboard-backends-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        try! fm.createDirectory(atPath: folder + "/iris", withIntermediateDirectories: true)
        try! fm.createDirectory(atPath: folder + "/reversed", withIntermediateDirectories: true)
        let model = try! String(contentsOfFile: root + "/policies/models/iris-linear/model.json", encoding: .utf8)
        try! model.write(toFile: folder + "/iris/model.json", atomically: true, encoding: .utf8)
        var json = try! JSONSerialization.jsonObject(with: Data(model.utf8)) as! [String: Any]
        json["weights"] = (json["weights"] as! [[Double]]).map { $0.map { -$0 } }
        json["bias"] = (json["bias"] as! [Double]).map { -$0 }
        try! JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/reversed/model.json"))
        for (source, library, links) in [("linear", "liblinear_backend.so", ["-lcjson", "-lm"]),
                                         ("oip_http", "liboip_http_backend.so", ["-lcurl", "-lcjson", "-lpthread"])] {
            let cc = Process()
            cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
            cc.arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-O2", "-I", root + "/Sources/SwitchboardABI/include",
                            "-o", folder + "/" + library, root + "/policies/backends/\(source).c"] + links
            try! cc.run()
            cc.waitUntilExit()
        }
        let registry = PolicyRegistry(folders: PluginFolders([folder]), cacheFolder: folder + "/cache", logger: TestStores.logger)
        try! registry.loadTrusted(path: PolicyBootstrap.builtInLibraryPath())
        return Fixture(folder: folder, policies: registry)
    }()

    struct Weights: Decodable { var weights: [[Double]]; var bias: [Double] }

    /// Softmax of the model in `folder` for one row, computed here.
    static func expected(_ folder: String, _ x: [Double]) throws -> [Double] {
        let w = try JSONDecoder().decode(Weights.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/model.json")))
        let logits = (0..<3).map { c in w.bias[c] + (0..<4).reduce(0.0) { $0 + w.weights[c][$1] * x[$1] } }
        let e = logits.map { exp($0 - logits.max()!) }
        return e.map { $0 / e.reduce(0, +) }
    }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < tolerance }
    }

    static let row = [6.3, 2.5, 5.0, 1.9]  // a virginica from the fixture
    static var input: String { #"[{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.5, 5.0, 1.9]}]"# }

    func register(_ client: some TestClientProtocol, _ name: String, model: String) async throws {
        let f = Self.fixture
        let r = try await client.send(.post, "/v1/backends", json: #"{"name": "\#(name)", "path": "\#(f.library)", "model": "\#(model)"}"#)
        #expect(r.status == .created, "\(String(buffer: r.body))")
    }

    /// A Thompson bandit over two registered models, arms `fitted` (Iris) and `reversed`; returns its key, its arms
    /// and the models' names.
    func twoModelBandit(_ client: some TestClientProtocol, _ prefix: String) async throws -> (key: String, arms: String, models: [String]) {
        let a = TestStores.uniqueKey("iris"), b = TestStores.uniqueKey("reversed")
        try await register(client, a, model: Self.fixture.iris)
        try await register(client, b, model: Self.fixture.reversed)
        let arms = #"[{"name": "fitted", "backend": "\#(a)"}, {"name": "reversed", "backend": "\#(b)"}]"#
        let key = TestStores.uniqueKey(prefix)
        let created = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": \#(arms), "policy": {"name": "thompson"}}"#)
        #expect(created.status == .created)
        return (key, arms, [a, b])
    }

    @Test("register a backend, predict through a one-model experiment, reward the prediction")
    func singleModel() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let model = TestStores.uniqueKey("iris")
            try await register(client, model, model: Self.fixture.iris)
            let listed = try await client.send(.get, "/v1/backends").decode(ModelsController<BasicRequestContext>.ModelList.self)
            let view = try #require(listed.backends.first { $0.name == model })
            #expect(view.backend == "linear@1")
            #expect(view.inputs == [TensorMetadataPayload(TensorSpec(name: "input", datatype: .fp32, shape: [-1, 4]))])
            let key = TestStores.uniqueKey("predict")
            _ = try await client.createExperiment(key, arms: #"[{"name": "linear", "backend": "\#(model)"}]"#)
            let r = try await client.send(.post, "/v1/experiments/\(key)/predict", json: #"{"unit": "u1", "inputs": \#(Self.input)}"#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let p = try r.decode(PredictResponse.self)
            #expect(p.variant == "linear")
            #expect(p.propensity == 1)
            #expect(p.outputs.map(\.name) == ["probabilities", "class"])
            #expect(Self.close(p.outputs[0].data, try Self.expected(Self.fixture.iris, Self.row)))
            #expect(p.outputs[1].data == [2])  // virginica
            let stored = try await TestStores.query("SELECT arm_index, unit FROM switchboard.decisions WHERE id = $1::uuid", [p.decisionID])
            #expect(stored == [["0", "u1"]])
            let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(p.decisionID)", "reward": 1}"#)
            #expect(reward.status == .ok)
        }
    }

    @Test("registering the same model again answers 200 and leaves its record; another model or config under the name answers 201")
    func registerAgain() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let f = Self.fixture, name = TestStores.uniqueKey("again")
            func post(model: String, config: String) async throws -> HTTPResponse.Status {
                let r = try await client.send(.post, "/v1/backends", json: #"{"name": "\#(name)", "path": "\#(f.library)", "model": "\#(model)", "config": \#(config)}"#)
                return r.status
            }
            func recorded() async throws -> [[String?]] {
                try await TestStores.query("SELECT model, config::text, registered_at::text FROM switchboard.model_backends WHERE name = $1", [name])
            }
            #expect(try await post(model: f.iris, config: #"{"file":"model.json"}"#) == .created)
            let first = try await recorded()
            // The same registration, its config written otherwise: known, and its record untouched.
            #expect(try await post(model: f.iris, config: #"{ "file" : "model.json" }"#) == .ok)
            #expect(try await recorded() == first)
            #expect(try await post(model: f.reversed, config: #"{"file":"model.json"}"#) == .created)
            #expect(try await recorded().first?[0] == f.reversed)
            // Deregistered, then registered again: new.
            #expect(try await client.send(.delete, "/v1/backends/\(name)").status == .noContent)
            #expect(try await post(model: f.reversed, config: #"{"file":"model.json"}"#) == .created)
        }
    }

    @Test("a bandit routes each prediction to its arm's model; an ensemble combines both")
    func banditAndEnsemble() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let (bandit, arms, _) = try await twoModelBandit(client, "bandit")
            let fitted = try Self.expected(Self.fixture.iris, Self.row), reversed = try Self.expected(Self.fixture.reversed, Self.row)
            var seen = Set<String>()
            var first: [Int: PredictResponse] = [:]
            for i in 0..<30 {
                let p = try await client.send(.post, "/v1/experiments/\(bandit)/predict", json: #"{"unit": "u\#(i)", "inputs": \#(Self.input)}"#)
                    .decode(PredictResponse.self)
                seen.insert(p.variant)
                first[i] = p
                #expect(Self.close(p.outputs[0].data, p.variant == "fitted" ? fitted : reversed), "\(p.variant)")
                #expect(p.propensity > 0 && p.propensity <= 1)
            }
            #expect(seen == ["fitted", "reversed"])  // a fresh Thompson bandit tries both
            // A returning unit keeps its arm (and that arm's model) and its original propensity,
            // whether it comes back through predict or through assign.
            for i in 0..<6 {
                let earlier = try #require(first[i])
                let again = try await client.send(.post, "/v1/experiments/\(bandit)/predict", json: #"{"unit": "u\#(i)", "inputs": \#(Self.input)}"#)
                    .decode(PredictResponse.self)
                #expect(again.variant == earlier.variant && again.propensity == earlier.propensity)
                #expect(Self.close(again.outputs[0].data, again.variant == "fitted" ? fitted : reversed))
                let assigned = try await client.send(.post, "/v1/experiments/\(bandit)/assign", json: #"{"unit": "u\#(i)"}"#)
                    .decode(AssignResponse.self)
                #expect(assigned.variant == earlier.variant && assigned.propensity == earlier.propensity)
            }

            // Units that already hold "fitted" (stuck by an earlier request or another replica):
            // the in-process model is first run for the policy's choice and the unit is claimed
            // with the group commit; where the choice was "reversed", the held arm's model runs
            // again, so every answer is fitted's, with the held propensity, as stored.
            let stores = try await TestStores.stores()
            for i in 0..<20 {
                _ = try await stores.stickyUnits.claim(experiment: bandit, unit: "held-\(i)", arm: 0, propensity: 0.375, ttlSeconds: 600)
                let p = try await client.send(.post, "/v1/experiments/\(bandit)/predict", json: #"{"unit": "held-\#(i)", "inputs": \#(Self.input)}"#)
                    .decode(PredictResponse.self)
                #expect(p.variant == "fitted" && p.propensity == 0.375)
                #expect(Self.close(p.outputs[0].data, fitted), "\(p.outputs[0].data)")
                let stored = try await TestStores.query("SELECT arm_index, propensity FROM switchboard.decisions WHERE id = $1::uuid", [p.decisionID])
                #expect(stored == [["0", "0.375"]])
            }

            let ensemble = TestStores.uniqueKey("ensemble")
            let made = try await client.send(.post, "/v1/experiments", json: """
                {"key": "\(ensemble)", "arms": \(arms), "policy": {"name": "ensemble", "config": {"k": 2, "combine": "mean"}}}
                """)
            #expect(made.status == .created, "\(String(buffer: made.body))")
            let p = try await client.send(.post, "/v1/experiments/\(ensemble)/predict", json: #"{"unit": "e1", "inputs": \#(Self.input)}"#)
                .decode(PredictResponse.self)
            #expect(Set(p.ensemble?.map(\.variant) ?? []) == ["fitted", "reversed"])
            #expect(p.outputs.count == 1)
            #expect(p.outputs[0].datatype == "FP64")
            #expect(Self.close(p.outputs[0].data, zip(fitted, reversed).map { ($0 + $1) / 2 }))
            // The same experiments as Open Inference Protocol models: a V2 client gets the
            // bandit's arm's model, the ensemble's combination, and the decision to reward.
            typealias V2 = V2InferResponse
            for i in 0..<4 {
                let b = try await client.send(.post, "/v2/models/\(bandit)/infer", json: #"{"parameters": {"unit": "v2-\#(i)"}, "inputs": \#(Self.input)}"#)
                    .decode(V2.self)
                #expect(Self.close(b.outputs[0].data, b.parameters.variant == "fitted" ? fitted : reversed), "\(b.parameters.variant)")
                let e = try await client.send(.post, "/v2/models/\(ensemble)/infer", json: #"{"parameters": {"unit": "v2-\#(i)"}, "inputs": \#(Self.input)}"#)
                    .decode(V2.self)
                #expect(Self.close(e.outputs[0].data, zip(fitted, reversed).map { ($0 + $1) / 2 }))
                for decision in [b.parameters.decisionID, e.parameters.decisionID] {
                    let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(decision)", "reward": 1}"#)
                    #expect(reward.status == .ok)
                }
            }
            // The unit's arm is claimed with the group commit: a returning unit keeps the variant
            // and propensity of its first decision, in the answer and in PostgreSQL, while the
            // models are still combined.
            for _ in 0..<3 {
                let again = try await client.send(.post, "/v1/experiments/\(ensemble)/predict", json: #"{"unit": "e1", "inputs": \#(Self.input)}"#)
                    .decode(PredictResponse.self)
                #expect(again.variant == p.variant && again.propensity == p.propensity)
                #expect(Self.close(again.outputs[0].data, zip(fitted, reversed).map { ($0 + $1) / 2 }))
                let stored = try await TestStores.query("SELECT a.name, d.propensity FROM switchboard.decisions d JOIN switchboard.arms a ON a.experiment = d.experiment AND a.arm_index = d.arm_index WHERE d.id = $1::uuid", [again.decisionID])
                #expect(stored.first?.first == p.variant && stored.first?[1].flatMap(Double.init) == p.propensity)
            }
        }
    }

    @Test("each prediction's decision records its model's output classes; the class rollups, the view and the results agree with a recount")
    func outputClasses() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let (bandit, _, models) = try await twoModelBandit(client, "classes")
            // Three flowers a row each (setosa, versicolor, virginica): each model's classes differ by row.
            let rows = #"[{"name": "input", "datatype": "FP32", "shape": [3, 4], "data": [5.1, 3.5, 1.4, 0.2, 6.0, 2.9, 4.5, 1.5, 6.3, 2.5, 5.0, 1.9]}]"#
            let stores = try await TestStores.stores()
            var answered: [String: [Int64]] = [:]
            func predict(_ unit: String) async throws -> PredictResponse {
                let p = try await client.send(.post, "/v1/experiments/\(bandit)/predict", json: #"{"unit": "\#(unit)", "inputs": \#(rows)}"#)
                    .decode(PredictResponse.self)
                answered[p.decisionID] = try #require(p.outputs.first { $0.name == "class" }).data.map { Int64($0) }
                return p
            }
            for i in 0..<20 { _ = try await predict("new-\(i)") }
            for i in 0..<10 { _ = try await predict("new-\(i)") }  // returning units
            // Units that hold "fitted" already: where the policy chooses "reversed", the decision is
            // stored without classes and fitted's model infers again; its classes follow it.
            for i in 0..<20 {
                _ = try await stores.stickyUnits.claim(experiment: bandit, unit: "held-\(i)", arm: 0, propensity: 0.5, ttlSeconds: 600)
                #expect(try await predict("held-\(i)").variant == "fitted")
            }
            // Classes that follow their decision are not awaited: they are in within a batch or two.
            let query = """
                SELECT d.id::text, c.classes::text, c.arm_index = d.arm_index AND c.phase = d.phase
                FROM switchboard.decisions d LEFT JOIN switchboard.decision_classes c ON c.decision_id = d.id WHERE d.experiment = $1
                """
            var stored: [[String?]] = []
            _ = try await eventually(every: .milliseconds(20)) {
                stored = try await TestStores.query(query, [bandit])
                return !stored.contains(where: { $0[1] == nil })
            }
            #expect(stored.count == 50)
            for row in stored {
                let id = try #require(row[0]).uppercased()
                let classes = row[1].map { $0.dropFirst().dropLast().split(separator: ",").compactMap { Int64($0) } }
                #expect(classes == answered.first { $0.key.uppercased() == id }?.value, "decision \(id)")
                #expect(row[2] == "t", "decision \(id): its classes name another arm or phase")
            }
            let recount = try await TestStores.query("""
                SELECT d.arm_index::text, c.class::text, count(*)::text
                FROM switchboard.decisions d JOIN switchboard.decision_classes dc ON dc.decision_id = d.id, unnest(dc.classes) AS c(class)
                WHERE d.experiment = $1 GROUP BY 1, 2 ORDER BY 1, 2
                """, [bandit])
            let view = try await TestStores.query("""
                SELECT arm_index::text, class::text, output_rows::text FROM switchboard.output_classes
                WHERE experiment = $1 AND phase IS NULL ORDER BY 1, 2
                """, [bandit])
            #expect(view == recount && view.count >= 4, "\(view) vs \(recount)")
            let results = try await client.send(.get, "/v1/experiments/\(bandit)/results").decode(ExperimentResults.self)
            #expect(results.outputs.map(\.model) == models)
            let fromResults = results.outputs.enumerated().flatMap { i, o in
                o.classes.map { ["\(i)", "\($0.outputClass)", "\($0.outputRows)"] }
            }.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(fromResults == view.map { $0.map { $0 ?? "" } })
            #expect(results.outputs.map(\.predictions).reduce(0, +) == 50)
            for o in results.outputs { #expect(abs(o.classes.reduce(0) { $0 + $1.share } - 1) < 1e-12) }
            // Compaction merges the rollup rows without changing a figure.
            _ = try await stores.results.compactRollups()
            #expect(try await TestStores.query("""
                SELECT arm_index::text, class::text, output_rows::text FROM switchboard.output_classes
                WHERE experiment = $1 AND phase IS NULL ORDER BY 1, 2
                """, [bandit]) == view)
        }
    }

    @Test("the experiment as an Open Inference Protocol model: metadata, ready, infer with unit and decision id in parameters")
    func openInferenceProtocol() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let model = TestStores.uniqueKey("iris")
            try await register(client, model, model: Self.fixture.iris)
            let key = TestStores.uniqueKey("v2")
            _ = try await client.createExperiment(key, arms: #"[{"name": "linear", "backend": "\#(model)"}]"#)
            let meta = try await client.send(.get, "/v2/models/\(key)").decode(V2ModelMetadata.self)
            #expect(meta.name == key)
            #expect(meta.inputs.map(\.name) == ["input"])
            #expect(meta.outputs.map(\.name) == ["probabilities", "class"])
            #expect(try await client.send(.get, "/v2/models/\(key)/ready").status == .ok)
            let r = try await client.send(.post, "/v2/models/\(key)/infer",
                                          json: #"{"id": "req-1", "parameters": {"unit": "u9"}, "inputs": \#(Self.input)}"#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let answer = try r.decode(V2InferResponse.self)
            #expect(answer.modelName == key)
            #expect(answer.id == "req-1")
            #expect(answer.parameters.unit == "u9")
            #expect(Self.close(answer.outputs[0].data, try Self.expected(Self.fixture.iris, Self.row)))
            let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(answer.parameters.decisionID)", "reward": 0}"#)
            #expect(reward.status == .ok)
        }
    }

    @Test("a V2 infer without a unit leaves no sticky key in Redis; one with a unit leaves one")
    func anonymousInferIsNotSticky() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let model = TestStores.uniqueKey("iris")
            try await register(client, model, model: Self.fixture.iris)
            let key = TestStores.uniqueKey("v2-anon")
            let created = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a", "backend": "\#(model)"}, {"name": "b", "backend": "\#(model)"}], "policy": {"name": "thompson"}}"#)
            #expect(created.status == .created)
            for i in 0..<5 {
                let body = i.isMultiple(of: 2) ? #"{"inputs": \#(Self.input)}"# : #"{"id": "req-\#(i)", "inputs": \#(Self.input)}"#
                #expect(try await client.send(.post, "/v2/models/\(key)/infer", json: body).status == .ok)
            }
            let redis = RedisConnection(endpoint: try .init(url: TestStores.redisURL))
            defer { redis.close() }
            func stickyKeys() throws -> Int {
                guard case .array(let keys) = try redis.command(["KEYS", "sb:{\(key)}:sticky:*"]) else { return -1 }
                return keys.count
            }
            #expect(try stickyKeys() == 0)
            #expect(try await client.send(.post, "/v2/models/\(key)/infer", json: #"{"parameters": {"unit": "u1"}, "inputs": \#(Self.input)}"#).status == .ok)
            #expect(try stickyKeys() == 1)
            #expect(try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [key]) == [["6"]])
        }
    }

    @Test("the oip-http backend forwards to a real Open Inference Protocol server (a live Switchboard) without blocking")
    func forwardsToOpenInferenceServer() async throws {
        let f = Self.fixture
        let stores = try await TestStores.stores()
        let server = buildApplication(host: "127.0.0.1", port: 0, stores: stores, policies: f.policies, logger: TestStores.logger)
        try await server.test(.live) { remote in
            let port = try #require(remote.port)
            let served = TestStores.uniqueKey("served"), linear = TestStores.uniqueKey("iris")
            try await register(remote, linear, model: f.iris)
            _ = try await remote.createExperiment(served, arms: #"[{"name": "linear", "backend": "\#(linear)"}]"#)
            try await withApp(policies: f.policies) { client in
                let proxy = TestStores.uniqueKey("remote")
                let registered = try await client.send(.post, "/v1/backends", json: """
                    {"name": "\(proxy)", "path": "\(f.oipLibrary)", "model": "\(f.iris)", "config": {"url": "http://127.0.0.1:\(port)", "model": "\(served)"}}
                    """)
                #expect(registered.status == .created, "\(String(buffer: registered.body))")
                let view = try registered.decode(ModelsController<BasicRequestContext>.ModelView.self)
                #expect(view.backend == "oip-http@1")
                #expect(view.platform == "oip-http")
                #expect(view.outputs.map(\.name) == ["probabilities", "class"])
                let key = TestStores.uniqueKey("forward")
                _ = try await client.createExperiment(key, arms: #"[{"name": "remote", "backend": "\#(proxy)"}]"#)
                let expected = try Self.expected(f.iris, Self.row)
                // Many at once: the backend's worker thread drives them all.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<16 {
                        group.addTask {
                            let r = try await client.send(.post, "/v1/experiments/\(key)/predict", json: #"{"unit": "u\#(i)", "inputs": \#(Self.input)}"#)
                            #expect(r.status == .ok, "\(String(buffer: r.body))")
                            let p = try r.decode(PredictResponse.self)
                            #expect(Self.close(p.outputs[0].data, expected))
                            #expect(p.outputs[1].data == [2])
                        }
                    }
                    try await group.waitForAll()
                }
                let forwarded = try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [served])
                #expect(forwarded == [["16"]])
                // The remote model stops serving: the failure comes back as a 502 that says why.
                #expect(try await remote.send(.delete, "/v1/backends/\(linear)").status == .noContent)
                let failed = try await client.send(.post, "/v1/experiments/\(key)/predict", json: #"{"unit": "u99", "inputs": \#(Self.input)}"#)
                #expect(failed.status == .badGateway)
                let detail = try failed.problem().detail
                #expect(detail.hasPrefix("model '\(proxy)' failed to infer: the inference server refused the request: HTTP 409: "), "\(detail)")
                // An unreachable server is refused at registration.
                let closed = try await client.send(.post, "/v1/backends", json: """
                    {"name": "\(proxy)-x", "path": "\(f.oipLibrary)", "model": "\(f.iris)", "config": {"url": "http://127.0.0.1:1", "model": "m"}}
                    """)
                #expect(closed.status == .unprocessableContent)
                #expect(try closed.problem().detail.hasPrefix("backend oip-http@1 refused model '\(f.iris)': cannot read the model metadata: "))
            }
        }
    }

    @Test("a replica re-checks a registration without reloading it when nothing changed (configs compared as JSON)")
    func recheckKeepsTheLoadedModel() async throws {
        let components = ServiceComponents(stores: try await TestStores.stores(), policies: Self.fixture.policies, logger: TestStores.logger)
        let name = TestStores.uniqueKey("iris")
        let (registered, _) = try await components.models.register(ModelRegistration(
            name: name, library: Self.fixture.library, model: Self.fixture.iris, config: #"{"file":"model.json"}"#))
        try await Task.sleep(for: ModelService.refreshInterval + .milliseconds(100))
        let again = try await components.models.endpoint(name)
        #expect(again === registered)
    }

    @Test("bad requests get precise problems and leave no decision")
    func errors() async throws {
        try await withApp(policies: Self.fixture.policies) { client in
            let f = Self.fixture
            let model = TestStores.uniqueKey("iris")
            try await register(client, model, model: f.iris)
            let key = TestStores.uniqueKey("bad")
            _ = try await client.createExperiment(key, arms: #"[{"name": "linear", "backend": "\#(model)"}]"#)
            let bare = TestStores.uniqueKey("nobackend")
            _ = try await client.createExperiment(bare, arms: #"[{"name": "control"}]"#)
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.post, "/v1/experiments/\(key)/predict", #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 5], "data": [1, 2, 3, 4, 5]}]}"#,
                 .unprocessableContent, "model '\(model)': input 'input' must have shape [-1, 4], not [1, 5]"),
                (.post, "/v1/experiments/\(key)/predict", #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 4], "data": [1, 2, 3, 4]}]}"#,
                 .unprocessableContent, "model '\(model)': input 'input' must be FP32, not FP64"),
                (.post, "/v1/experiments/\(key)/predict", #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP16", "shape": [1, 4], "data": [1, 2, 3, 4]}]}"#,
                 .unprocessableContent, "field 'inputs[0].datatype' must be one of BOOL, INT32, INT64, FP32, FP64; got 'FP16'"),
                (.post, "/v1/experiments/\(key)/predict", #"{"unit": "u", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3]}]}"#,
                 .unprocessableContent, "field 'inputs[0].data' has 3 values, but shape [1, 4] needs 4"),
                (.post, "/v1/experiments/\(key)/predict", #"{"unit": "u", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}"#,
                 .unprocessableContent, "model '\(model)': unknown input 'x'; the model takes 'input'"),
                (.post, "/v1/experiments/\(bare)/predict", #"{"unit": "u", "inputs": \#(Self.input)}"#,
                 .conflict, "arm 'control' of experiment '\(bare)' has no model backend; set 'backend' on every arm to predict"),
                (.post, "/v1/backends", #"{"name": "x1", "path": "/etc/passwd", "model": "\#(f.iris)"}"#,
                 .unprocessableContent, "plugin file '/etc/passwd' is outside the plugin folders (\(PluginFolders([f.folder]).folders[0]))"),
                (.post, "/v1/backends", #"{"name": "x2", "path": "\#(f.library)", "model": "\#(f.folder)/cache"}"#,
                 .unprocessableContent, "backend linear@1 refused model '\(f.folder)/cache': cannot read the weights file \(PluginFolders([f.folder]).folders[0])/cache/model.json"),
                (.post, "/v1/backends", #"{"name": "Bad Name", "path": "\#(f.library)", "model": "\#(f.iris)"}"#,
                 .unprocessableContent, "field 'name' must match [a-z0-9][a-z0-9_-]{0,62}; got 'Bad Name'"),
                (.post, "/v1/backends", #"{"name": "x3", "path": "\#(f.library)", "model": "\#(f.iris)", "config": {"note": "a\u0000b"}}"#,
                 .unprocessableContent, "field 'config' must not contain the NUL character (\\u0000), which PostgreSQL's jsonb cannot hold"),
                (.post, "/v1/backends", #"{"name": "x4", "path": "\#(f.library)", "model": "\#(f.iris)", "config": [1]}"#,
                 .unprocessableContent, "field 'config' must be a JSON object"),
                (.delete, "/v1/backends/never-registered", nil, .notFound, "no model backend is registered as 'never-registered' (POST /v1/backends registers one)"),
            ]
            for (method, path, body, status, detail) in cases {
                let r = try await client.send(method, path, json: body)
                #expect(r.status == status, "\(path) \(body ?? "")")
                let got: String? = try r.problem().detail
                #expect(got == detail, "\(got ?? "nil")")
            }
            let decisions = try await TestStores.query("SELECT count(*) FROM switchboard.decisions WHERE experiment = $1", [key])
            #expect(decisions == [["0"]])
            // Deregistered: routing stops (the library stays loaded).
            #expect(try await client.send(.delete, "/v1/backends/\(model)").status == .noContent)
            let gone = try await client.send(.post, "/v1/experiments/\(key)/predict", json: #"{"unit": "u", "inputs": \#(Self.input)}"#)
            #expect(gone.status == .conflict)
            #expect(try gone.problem().detail == "arm 'linear' of experiment '\(key)' routes to model backend '\(model)', which is not registered")
        }
    }
}
