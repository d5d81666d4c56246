import NIOPosix

/// Live per-arm counters and policy statistics in Redis, two hashes per experiment:
/// `sb:{<experiment>}:counters` with fields `<arm>:assignments`, `<arm>:rewards`,
/// `<arm>:reward_sum`, and `sb:{<experiment>}:state` with one field per statistic index
/// (absent = 0) plus `initialized`. The braces make the experiment key a Redis Cluster
/// hash tag, so both hashes live on one shard.
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

    static func stateKey(_ experiment: String) -> String { "sb:{\(experiment)}:state" }

    public func policyState(experiment: String, length: Int) async throws -> [Double]? {
        let replies = try await run([["HGETALL", Self.stateKey(experiment)]])
        return Self.parseState(replies[0], length: length)
    }

    /// Parses an `HGETALL` of a state hash; nil if the hash does not exist.
    static func parseState(_ reply: RedisReply, length: Int) -> [Double]? {
        guard case .array(let items) = reply, !items.isEmpty else { return nil }
        var state = [Double](repeating: 0, count: length)
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard let field = items[i].text, let index = Int(field), state.indices.contains(index),
                  let value = items[i + 1].text.flatMap(Double.init) else { continue }
            state[index] = value
        }
        return state
    }

    @discardableResult
    public func initializePolicyState(experiment: String, prior: [Double]) async throws -> Bool {
        let key = Self.stateKey(experiment)
        let claimed = try await run([["HSETNX", key, "initialized", "1"]])
        guard claimed[0] == .integer(1) else { return false }
        try await addToPolicyState(experiment: experiment, delta: prior)
        return true
    }

    func addToPolicyState(experiment: String, delta: [Double]) async throws {
        let key = Self.stateKey(experiment)
        let commands = delta.enumerated().compactMap { i, v in v == 0 ? nil : ["HINCRBYFLOAT", key, String(i), String(v)] }
        if !commands.isEmpty { try await run(commands) }
    }

    static func stickyKey(_ experiment: String, unit: String) -> String { "sb:{\(experiment)}:sticky:\(unit)" }

    /// The arm (and its original propensity) a unit is stuck to, if its stickiness lasts.
    public func stickyArm(experiment: String, unit: String) async throws -> (arm: Int, propensity: Double)? {
        let reply = try await run([["GET", Self.stickyKey(experiment, unit: unit)]])[0]
        return Self.parseSticky(reply)
    }

    /// Sticks a unit to an arm for `ttl` seconds unless it is stuck already (by an earlier
    /// request or another replica); one round trip (`SET NX EX GET`, Redis 7). Returns the
    /// arm that holds, and whether it is the one given now.
    public func stick(experiment: String, unit: String, arm: Int, propensity: Double, ttl: Int) async throws -> (arm: Int, propensity: Double, new: Bool) {
        let key = Self.stickyKey(experiment, unit: unit)
        let reply = try await run([["SET", key, "\(arm):\(propensity)", "NX", "EX", String(ttl), "GET"]])[0]
        if let earlier = Self.parseSticky(reply) { return (earlier.arm, earlier.propensity, false) }
        return (arm, propensity, true)
    }

    static func parseSticky(_ reply: RedisReply) -> (arm: Int, propensity: Double)? {
        guard let text = reply.text else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let arm = Int(parts[0]), let p = Double(parts[1]) else { return nil }
        return (arm, p)
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
