import ArgumentParser
import ExperimentService
import Foundation
import Logging
import NIOPosix

/// `switchboard consume`: the service, plus a consumer of assignment requests and rewards
/// on Redis Streams (`StreamConsumer`); its HTTP routes (`/metrics` among them) stay up.
struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve, and consume assignment requests and rewards from Redis Streams (a consumer group), writing decisions to a stream.")

    @Option(help: "This consumer's name in the group (default: host and process id).")
    var consumer: String?

    @Option(help: "The stream of assignment requests.")
    var requests = "switchboard:requests"

    @Option(help: "The stream decisions are written to.")
    var decisions = "switchboard:decisions"

    @Option(help: "The stream of rewards.")
    var rewards = "switchboard:rewards"

    @OptionGroup var serve: Serve

    func run() async throws {
        var names = StreamConsumer.Names()
        (names.requests, names.decisions, names.rewards) = (requests, decisions, rewards)
        let name = consumer ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        try await serve.run { components, urls in
            [StreamConsumer(redisURL: urls.redis, names: names, consumer: name, assignments: components.assignments,
                           predictions: components.predictions,
                                rewards: components.rewards, decisionLog: components.stores.decisionLog, threadPool: .singleton,
                                logger: Logger(label: "switchboard.streams"))]
        }
    }
}
