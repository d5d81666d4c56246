import Crypto
import Foundation
import Hummingbird
import PluginSupport

/// Experiments as OpenFeature flags over the Remote Evaluation Protocol (OFREP), and
/// OpenFeature tracking events as rewards (`docs/interfaces.md`):
/// - `POST /ofrep/v1/evaluate/flags/{key}`: the experiment `key` is the flag and the
///   context's `targetingKey` the unit; the answer is the unit's assignment (logged like
///   `/assign`), its arm's value, and the decision in `metadata`;
/// - `POST /ofrep/v1/evaluate/flags`: every flag experiment that serves units, with an `ETag`;
///   `If-None-Match` with it is a 304 that assigns nothing;
/// - `POST /v1/track`: an event named like a metric becomes a reward for the unit's latest
///   decision in each experiment that declares that metric.
/// Errors on `/ofrep` routes take OFREP's shape (``FlagEvaluationError``).
public struct FlagsController<Context: RequestContext>: Sendable {
    let assignments: AssignmentService
    let rewards: RewardService
    let catalog: ExperimentCatalog
    let decisionLog: any DecisionLog

    public init(assignments: AssignmentService, rewards: RewardService, catalog: ExperimentCatalog, decisionLog: any DecisionLog) {
        (self.assignments, self.rewards, self.catalog, self.decisionLog) = (assignments, rewards, catalog, decisionLog)
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/ofrep/v1/evaluate/flags/{key}", use: evaluate)
        router.post("/ofrep/v1/evaluate/flags", use: evaluateAll)
        router.post("/v1/track", use: track)
    }

    /// An evaluation: the flag's variant and value, and the decision to reward.
    public struct Evaluation: ResponseEncodable, Codable, Sendable {
        public var key: String
        /// `SPLIT` while the experiment runs; `DISABLED` when it serves its control arm
        /// (paused, stopped or archived).
        public var reason: String
        public var variant: String
        public var value: JSONValue
        /// `decision_id`, `propensity` and `phase`.
        public var metadata: [String: JSONValue]
    }

    /// A flag of a bulk evaluation that failed.
    public struct EvaluationFailure: Codable, Sendable {
        public var key: String
        public var errorCode: String
        public var errorDetails: String
    }

    /// The body of a bulk evaluation.
    public struct BulkEvaluation: Encodable, Sendable {
        public enum Flag: Encodable, Sendable {
            case evaluated(Evaluation)
            case failed(EvaluationFailure)
            public func encode(to encoder: any Encoder) throws {
                switch self {
                case .evaluated(let e): try e.encode(to: encoder)
                case .failed(let f): try f.encode(to: encoder)
                }
            }
        }
        public var flags: [Flag]
    }

    @Sendable func evaluate(_ request: Request, context: Context) async throws -> Evaluation {
        let key = try context.parameters.require("key")
        let flagContext = try await FlagContext.read(request)
        return try await evaluate(key: key, flagContext)
    }

    /// Assigns the context's unit in experiment `key`, as `/assign` does.
    func evaluate(key: String, _ flagContext: FlagContext) async throws -> Evaluation {
        let experiment = try await catalog.entry(key).experiment
        let assignment = try await assignments.assign(experiment: key, unit: flagContext.unit,
                                                      context: try flagContext.features(experiment.contextFeatures))
        // By name: an arm added since `experiment` was read is not in it (its value is then the name).
        let value = experiment.arms.first { $0.name == assignment.variant }?.value ?? .string(assignment.variant)
        return Evaluation(key: key, reason: experiment.status == .running ? "SPLIT" : "DISABLED", variant: assignment.variant,
                          value: value,
                          metadata: ["decision_id": .string(DecisionID.text(assignment.decisionID)), "propensity": .number(assignment.propensity),
                                     "phase": .number(Double(experiment.phase))])
    }

    /// The experiments a bulk evaluation covers: the flags (no arm routes to a model) that
    /// serve units (running, paused, stopped), by key.
    func flags() async throws -> [Experiment] {
        try await catalog.all()
            .filter { e in [.running, .paused, .stopped].contains(e.status) && e.arms.allSatisfy { $0.backend == nil } }
            .sorted { $0.key < $1.key }
    }

    /// What a bulk evaluation's answer depends on: the context, and each flag's key, phase
    /// and status (a unit keeps its arm while these stay, by its hash or its sticky claim).
    static func etag(_ flagContext: FlagContext, _ experiments: [Experiment]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(flagContext.canonical.utf8))
        for e in experiments { hasher.update(data: Data("\u{0}\(e.key)\u{0}\(e.phase)\u{0}\(e.status.rawValue)".utf8)) }
        return "\"" + hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }

    @Sendable func evaluateAll(_ request: Request, context: Context) async throws -> Response {
        let flagContext = try await FlagContext.read(request)
        let experiments = try await flags()
        let etag = Self.etag(flagContext, experiments)
        if let sent = request.headers[.ifNoneMatch],
           sent.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).contains(where: { $0 == etag || $0 == "W/" + etag || $0 == "*" }) {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        var flags: [BulkEvaluation.Flag] = []
        for e in experiments {
            do {
                flags.append(.evaluated(try await evaluate(key: e.key, flagContext)))
            } catch {
                let problem = Problem.from(error) ?? Problem(.internalServerError, code: "internal", title: "Internal error", detail: "the flag failed to evaluate")
                let (_, code) = FlagEvaluationError(problem, path: "").statusAndCode
                flags.append(.failed(EvaluationFailure(key: e.key, errorCode: code, errorDetails: problem.detail)))
            }
        }
        let body = try JSONEncoder().encode(BulkEvaluation(flags: flags))
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: etag], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: Tracking

    /// `POST /v1/track`: an OpenFeature tracking event.
    public struct TrackRequest: Codable, Sendable {
        /// The event's name: the metric it rewards.
        public var event: String
        public var context: [String: JSONValue]
        /// The reward (OpenFeature's tracking `value`); 1 when absent (an event that happened).
        public var value: Double?
        /// Only these experiments; by default every one declaring the metric.
        public var experiments: [String]?
    }

    public struct TrackResponse: ResponseEncodable, Codable, Sendable {
        public struct Rewarded: Codable, Sendable {
            public var experiment: String
            public var decisionID: String
            public var status: String
            enum CodingKeys: String, CodingKey {
                case experiment, status
                case decisionID = "decision_id"
            }
        }
        public var rewards: [Rewarded]
        /// Experiments declaring the metric in which the unit has no decision.
        public var withoutDecision: [String]
        enum CodingKeys: String, CodingKey {
            case rewards
            case withoutDecision = "without_decision"
        }
    }

    @Sendable func track(_ request: Request, context: Context) async throws -> TrackResponse {
        let body = try await JSONBody.decode(TrackRequest.self, from: request)
        let flagContext = try FlagContext(body.context)
        guard ExperimentSpec.isValidName(body.event) else {
            throw ServiceError.invalidField(path: "event", reason: "must be a metric name ([A-Za-z0-9][A-Za-z0-9_.-]{0,62})")
        }
        let value = body.value ?? 1
        let wanted = body.experiments.map(Set.init)
        let declaring = try await catalog.all().filter { e in
            ![.draft, .deleted].contains(e.status) && e.metrics.contains { $0.name == body.event } && (wanted?.contains(e.key) ?? true)
        }
        if let wanted, let missing = wanted.subtracting(declaring.map(\.key)).sorted().first {
            throw ServiceError.invalidField(path: "experiments", reason: "'\(missing)' is not an experiment that declares the metric '\(body.event)'")
        }
        var items: [(experiment: String, item: RewardService.Item)] = [], without: [String] = []
        for e in declaring.sorted(by: { $0.key < $1.key }) {
            if let id = try await decisionLog.latestDecision(experiment: e.key, unit: flagContext.unit) {
                items.append((e.key, .init(decisionID: DecisionID.text(id), metric: body.event, value: value)))
            } else {
                without.append(e.key)
            }
        }
        let results = try await rewards.rewards(items.map(\.item))
        var rewarded: [TrackResponse.Rewarded] = []
        for (item, result) in zip(items, results) {
            let outcome = try result.get()  // a conflicting or refused reward fails the event, naming why
            rewarded.append(.init(experiment: item.experiment, decisionID: item.item.decisionID, status: outcome.status.rawValue))
        }
        return TrackResponse(rewards: rewarded, withoutDecision: without)
    }
}

/// An OpenFeature evaluation context as OFREP sends it: `targetingKey` (the unit) and
/// other attributes, of which the experiment's declared context features are read (as
/// numbers); the rest are ignored.
struct FlagContext: Sendable {
    let unit: String
    let attributes: [String: JSONValue]
    /// The context as canonical JSON (keys sorted), for the ETag.
    let canonical: String

    /// Reads `{"context": {...}}`; an empty body is an empty context.
    static func read(_ request: Request) async throws -> FlagContext {
        struct Body: Decodable { var context: [String: JSONValue]? }
        let buffer = try await request.body.collect(upTo: JSONBody.maxBytes)
        let data = Data(buffer.readableBytesView)
        let body = data.isEmpty ? Body(context: nil) : try JSONBody.decode(Body.self, from: data)
        return try FlagContext(body.context ?? [:])
    }

    init(_ context: [String: JSONValue]) throws(ServiceError) {
        guard let key = context["targetingKey"] else { throw .targetingKeyMissing }
        guard case .string(let unit) = key else {
            throw .invalidContext("the context's targetingKey must be a string")
        }
        guard !unit.isEmpty else { throw .targetingKeyMissing }
        do { try AssignmentService.validate(unit: unit) } catch {
            throw .invalidContext("the context's targetingKey must be 1 to 512 bytes without the NUL character")
        }
        self.unit = unit
        attributes = context
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        canonical = (try? encoder.encode(context)).map { String(decoding: $0, as: UTF8.self) } ?? unit
    }

    /// The experiment's context features, read from the attributes.
    func features(_ names: [String]) throws(ServiceError) -> [String: Double]? {
        guard !names.isEmpty else { return nil }
        var values: [String: Double] = [:]
        for name in names {
            switch attributes[name] {
            case .number(let n)?: values[name] = n
            case .bool(let b)?: values[name] = b ? 1 : 0
            case nil: throw .invalidContext("the flag needs the context attribute '\(name)' (a number)")
            default: throw .invalidContext("the context attribute '\(name)' must be a number")
            }
        }
        return values
    }
}
