import Hummingbird

/// `POST /v1/rewards`.
public struct RewardsController<Context: RequestContext>: Sendable {
    let service: RewardService

    public init(service: RewardService) {
        self.service = service
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/rewards", use: reward)
    }

    /// The request body.
    public struct RewardRequest: Codable, Sendable {
        public var decisionID: String
        public var reward: Double
        public var metric: String?

        enum CodingKeys: String, CodingKey {
            case reward, metric
            case decisionID = "decision_id"
        }
    }

    /// The response body: sent only after the reward is durable.
    public struct RewardResponse: ResponseEncodable, Decodable, Sendable {
        public var decisionID: String
        public var metric: String
        public var status: RewardService.Status

        enum CodingKeys: String, CodingKey {
            case metric, status
            case decisionID = "decision_id"
        }
    }

    @Sendable func reward(_ request: Request, context: Context) async throws -> RewardResponse {
        let body = try await JSONBody.decode(RewardRequest.self, from: request)
        let status = try await service.reward(decisionID: body.decisionID, metric: body.metric, value: body.reward)
        return RewardResponse(decisionID: body.decisionID.lowercased(), metric: body.metric ?? "reward", status: status)
    }
}
