import NIOPosix

/// Live per-arm counters in Redis, one hash per experiment:
/// `sb:{<experiment>}:counters` with fields `<arm>:assignments`, `<arm>:rewards`,
/// `<arm>:reward_sum`. The braces make the experiment key a Redis Cluster hash tag.
public final class RedisStateStore: StateStore {
    let pool: BlockingConnectionPool<RedisConnection>
    /// Where Redis is, for messages.
    public let endpointDescription: String

    /// - Parameters:
    ///   - url: `redis://[:password@]host:port[/db]`.
    ///   - connections: how many connections to open at most.
    ///   - threadPool: the threads that run hiredis's blocking calls.
    public init(url: String, connections: Int = 8, threadPool: NIOThreadPool) throws {
        let endpoint = try RedisConnection.Endpoint(url: url)
        self.endpointDescription = endpoint.description
        self.pool = BlockingConnectionPool(
            connections: (0..<connections).map { _ in RedisConnection(endpoint: endpoint) },
            threadPool: threadPool
        )
    }

    static func countersKey(_ experiment: String) -> String { "sb:{\(experiment)}:counters" }

    public func recordAssignment(experiment: String, armIndex: Int) async throws {
        let key = Self.countersKey(experiment)
        try await run([["HINCRBY", key, "\(armIndex):assignments", "1"]])
    }

    public func recordReward(experiment: String, armIndex: Int, value: Double) async throws {
        let key = Self.countersKey(experiment)
        try await run([
            ["HINCRBY", key, "\(armIndex):rewards", "1"],
            ["HINCRBYFLOAT", key, "\(armIndex):reward_sum", String(value)],
        ])
    }

    public func counters(experiment: String, armCount: Int) async throws -> [ArmCounters] {
        let replies = try await run([["HGETALL", Self.countersKey(experiment)]])
        var result = [ArmCounters](repeating: ArmCounters(), count: armCount)
        guard case .array(let items) = replies[0] else { return result }
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard let field = items[i].text, let value = items[i + 1].text else { continue }
            let parts = field.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let arm = Int(parts[0]), result.indices.contains(arm) else { continue }
            switch parts[1] {
            case "assignments": result[arm].assignments = Int64(value) ?? 0
            case "rewards": result[arm].rewards = Int64(value) ?? 0
            case "reward_sum": result[arm].rewardSum = Double(value) ?? 0
            default: break
            }
        }
        return result
    }

    public func ping() async throws {
        try await run([["PING"]])
    }

    /// Pipelines `commands`; an error reply to any of them throws.
    @discardableResult
    func run(_ commands: [[String]]) async throws -> [RedisReply] {
        let replies = try await pool.withConnection { try $0.pipeline(commands) }
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply {
                throw StoreError(.serverError, store: .redis, message: "\(command[0]) failed: \(message)")
            }
        }
        return replies
    }
}
