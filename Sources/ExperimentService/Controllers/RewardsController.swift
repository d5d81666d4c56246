import Foundation
import Hummingbird

/// `POST /v1/rewards`: one reward, or `{"rewards": [...]}` with a result per item.
public struct RewardsController<Context: RequestContext>: Sendable {
    let service: RewardService

    public init(service: RewardService) {
        self.service = service
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/rewards", use: reward)
    }

    /// One reward in a request body.
    public struct RewardRequest: Codable, Sendable {
        public var decisionID: String
        public var reward: Double
        public var metric: String?

        enum CodingKeys: String, CodingKey {
            case reward, metric
            case decisionID = "decision_id"
        }
    }

    /// A request body: one reward, or a batch (`{"rewards": [...]}`), told apart and
    /// decoded in one pass.
    enum Body: Decodable {
        case one(RewardRequest)
        case batch([RewardRequest])

        private enum Keys: String, CodingKey { case rewards }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            if container.contains(.rewards) {
                self = .batch(try container.decode([RewardRequest].self, forKey: .rewards))
            } else {
                self = .one(try RewardRequest(from: decoder))
            }
        }
    }

    /// The response for one reward: sent only after the reward is durable.
    public struct RewardResponse: ResponseEncodable, Codable, Sendable {
        public var decisionID: String
        /// The metric stored (the primary one when the reward named none); for a failed
        /// item, the metric it named, if any.
        public var metric: String?
        /// `recorded` or `duplicate`; absent when the item failed.
        public var status: RewardService.Status?
        /// Whether the policy learns from this reward.
        public var learned: Bool?
        /// Why the item failed (batch responses only).
        public var error: Problem?

        enum CodingKeys: String, CodingKey {
            case metric, status, learned, error
            case decisionID = "decision_id"
        }
    }

    /// The response to a batch: one result per item, in order.
    public struct BatchResponse: ResponseEncodable, Codable, Sendable {
        public var results: [RewardResponse]
        public var recorded: Int
        public var duplicates: Int
        public var failed: Int
    }

    @Sendable func reward(_ request: Request, context: Context) async throws -> Response {
        switch try await JSONBody.decode(Body.self, from: request) {
        case .one(let one):
            let outcome = try await service.reward(decisionID: one.decisionID, metric: one.metric, value: one.reward)
            return try RewardResponse(decisionID: one.decisionID.lowercased(), metric: outcome.metric,
                                      status: outcome.status, learned: outcome.learned).response(from: request, context: context)
        case .batch(let items):
            guard (1...RewardService.maxBatch).contains(items.count) else {
                throw ServiceError.invalidField(path: "rewards", reason: "must hold 1 to \(RewardService.maxBatch) rewards; got \(items.count)")
            }
            let results = try await service.rewards(items.map { .init(decisionID: $0.decisionID, metric: $0.metric, value: $0.reward) })
            let responses = zip(items, results).map { item, result in
                switch result {
                case .success(let outcome):
                    RewardResponse(decisionID: item.decisionID.lowercased(), metric: outcome.metric,
                                   status: outcome.status, learned: outcome.learned)
                case .failure(let error):
                    RewardResponse(decisionID: item.decisionID, metric: item.metric,
                                   error: Problem.from(error) ?? Problem(.internalServerError, code: "internal", title: "Internal error",
                                                                         detail: "storing this reward failed; the error was logged"))
                }
            }
            let response = BatchResponse(
                results: responses,
                recorded: responses.filter { $0.status == .recorded }.count,
                duplicates: responses.filter { $0.status == .duplicate }.count,
                failed: responses.filter { $0.error != nil }.count)
            return try response.response(from: request, context: context)
        }
    }
}
