/// One Redis connection whose commands concurrent callers share: their commands go out in
/// one pipeline (one round trip), sent by a thread of its own (a ``ThreadCoalescer``).
public final class RedisPipeline: Sendable {
    let coalescer: ThreadCoalescer<[[String]], [RedisReply]>
    let endpoint: RedisConnection.Endpoint

    /// - Parameter url: `redis://[:password@]host:port[/db]`.
    public init(url: String) throws {
        let endpoint = try RedisConnection.Endpoint(url: url)
        self.endpoint = endpoint
        let connection = RedisConnection(endpoint: endpoint)
        self.coalescer = ThreadCoalescer(name: "redis-pipeline", maxBatch: 512) { groups in
            let replies: [RedisReply]
            do { replies = try connection.pipeline(groups.flatMap { $0 }) } catch {
                return groups.map { _ in .failure(error) }
            }
            var results: [Result<[RedisReply], any Error>] = []
            var next = 0
            for group in groups {
                results.append(.success(Array(replies[next..<next + group.count])))
                next += group.count
            }
            return results
        }
        coalescer.start()
    }

    /// Pipelines `commands` (with those of concurrent callers, in one round trip) and returns
    /// every reply, error replies included (the caller judges each).
    func runEach(_ commands: [[String]]) async throws -> [RedisReply] {
        try await coalescer.submit(commands)
    }

    /// Pipelines `commands` (with those of concurrent callers, in one round trip); an error
    /// reply to any of them throws.
    @discardableResult
    func run(_ commands: [[String]]) async throws -> [RedisReply] {
        let replies = try await coalescer.submit(commands)
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply {
                throw StoreError(.serverError, store: .redis, message: "\(command[0]) failed: \(message)")
            }
        }
        return replies
    }
}
