import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PluginHost
import Prometheus

/// What every test target shares: the process-wide metrics registry and the built-in
/// policies, each set up once per test process (all test targets run in one process).
public enum TestSupport {
    public static let logger = Logger(label: "switchboard-tests")

    /// The process-wide Prometheus registry (swift-metrics is bootstrapped once per process).
    public static let metrics: PrometheusCollectorRegistry = MetricsSetup.bootstrap()

    /// The policy registry of the test process: the built-in library, loaded once.
    public static let policies: PolicyRegistry = {
        let registry = PolicyRegistry(folders: PluginFolders([]), cacheFolder: NSTemporaryDirectory() + "switchboard-test-plugin-cache",
                                      logger: logger)
        do {
            try registry.loadTrusted(path: PolicyBootstrap.builtInLibraryPath())
        } catch {
            preconditionFailure("the built-in policies did not load (build them with `swift build --build-tests`): \(error)")
        }
        return registry
    }()

    /// Texts that break naive encoders: quotes, backslashes, control characters, non-ASCII, SQL-looking words, empty.
    public static let awkwardTexts = ["plain", "quote \" and \\ backslash", "new\nline\ttab", "ctrl \u{01}\u{1f}", "unicode é 日本 🎉", "{a,b}", "NULL", ""]

    /// A key no other test uses.
    public static func uniqueKey(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// A test's unexpected answer.
public struct UnexpectedResponse: Error, CustomStringConvertible {
    public var description: String
}

extension TestClientProtocol {
    /// Sends `body` (any JSON text) with `method`, and a bearer `key` if given, and returns the response.
    public func send(_ method: HTTPRequest.Method, _ uri: String, json body: String? = nil, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    /// Creates a two-arm experiment and returns its key; throws unless it was created.
    /// Creates an experiment; `metrics` is its JSON list of metrics (`reward` alone when nil).
    public func createExperiment(_ key: String, arms: String = #"[{"name": "control", "weight": 1}, {"name": "green", "weight": 1}]"#,
                                 metrics: String? = nil) async throws -> String {
        let declared = metrics.map { #", "metrics": \#($0)"# } ?? ""
        let response = try await send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": \#(arms)\#(declared)}"#)
        guard response.status == .created else {
            throw UnexpectedResponse(description: "creating \(key): \(response.status) \(String(buffer: response.body))")
        }
        return key
    }
}

extension TestResponse {
    /// The body decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The body decoded as a problem document; throws unless it is `application/problem+json`.
    public func problem() throws -> Problem {
        guard headers[.contentType] == "application/problem+json" else {
            throw UnexpectedResponse(description: "not a problem document (\(headers[.contentType] ?? "no content type")): \(String(buffer: body))")
        }
        return try decode(Problem.self)
    }
}

/// The assign route's answer.
public typealias AssignResponse = AssignmentController<BasicRequestContext>.AssignResponse
/// The predict route's answer.
public typealias PredictResponse = PredictionController<BasicRequestContext>.PredictResponse
/// The rewards route's answer for one reward.
public typealias RewardResponse = RewardsController<BasicRequestContext>.RewardResponse

/// An Open Inference Protocol infer answer with JSON outputs, as the tests read it.
public struct V2InferResponse: Decodable {
    public struct Parameters: Decodable {
        public var decisionID: String
        public var variant: String
        public var propensity: Double
        public var unit: String
        enum CodingKeys: String, CodingKey {
            case variant, propensity, unit
            case decisionID = "decision_id"
        }
    }
    public var modelName: String
    public var modelVersion: String
    public var id: String?
    public var parameters: Parameters
    public var outputs: [TensorPayload]
    enum CodingKeys: String, CodingKey {
        case id, parameters, outputs
        case modelName = "model_name"
        case modelVersion = "model_version"
    }
}
/// An Open Inference Protocol model's metadata.
public typealias V2ModelMetadata = InferenceProtocolController<BasicRequestContext>.ModelMetadata
