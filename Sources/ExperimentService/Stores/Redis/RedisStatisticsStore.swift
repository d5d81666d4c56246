
/// Live per-arm counters and policy statistics in Redis, two hashes per experiment:
/// `sb:{<experiment>}:counters` with fields `<arm>:assignments`, `<arm>:rewards`,
/// `<arm>:reward_sum`, and `sb:{<experiment>}:state` with one field per statistic index
/// (absent = 0) plus `epoch` and `snapshot` (see ``StoredStatistics``). Both are
/// rebuilt from PostgreSQL when lost; deltas go through Lua scripts that check the epoch. The braces make the experiment key a Redis Cluster
/// hash tag, so both hashes live on one shard.
public final class RedisStatisticsStore: StatisticsStore {
    let pipeline: RedisPipeline

    /// Works through `pipeline` (shared with ``RedisStickyUnits``).
    public init(pipeline: RedisPipeline) {
        self.pipeline = pipeline
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
            // Range-checked: a count is never negative, a sum always finite.
            case "assignments": result[arm].assignments = Int64(value).map { max($0, 0) } ?? 0
            case "rewards": result[arm].rewards = Int64(value).map { max($0, 0) } ?? 0
            case "reward_sum": result[arm].rewardSum = Double(value).flatMap { $0.isFinite ? $0 : nil } ?? 0
            default: break
            }
        }
        return result
    }

    static func stateKey(_ experiment: String) -> String { "sb:{\(experiment)}:state" }

    public func storedStatistics(experiment: String, length: Int) async throws -> StoredStatistics {
        let replies = try await run([["HGETALL", Self.stateKey(experiment)]])
        return StoredStatistics.parse(replies[0], length: length)
    }

    /// Fences an experiment's statistics for a rebuild: sets its epoch to
    /// `rebuilding:<token>:<deadline>` so replicas hold their deltas. Without `force` only a
    /// missing hash is fenced (an automatic rebuild after Redis lost it); with `force` a
    /// built one too (an on-demand rebuild). A fence past its deadline (a rebuilder that
    /// died) may be taken over. Returns the fence, or nil if another rebuild holds the hash
    /// (or, without `force`, the statistics exist).
    public func fence(experiment: String, token: String, lease: Duration, force: Bool) async throws -> String? {
        let reply = try await run([["EVAL", Self.fenceScript, "1", Self.stateKey(experiment), token,
                                    String(lease.components.seconds * 1000), force ? "1" : "0"]])[0]
        return reply.text.flatMap { $0.hasPrefix(StoredStatistics.fencePrefix) ? $0 : nil }
    }

    static let fenceScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if epoch then
          local deadline = string.match(epoch, '^rebuilding:[^:]+:(%d+)$')
          if deadline then
            if tonumber(deadline) > now then return 0 end
          elseif ARGV[3] ~= '1' then
            return 0
          end
        end
        local fence = 'rebuilding:' .. ARGV[1] .. ':' .. (now + tonumber(ARGV[2]))
        redis.call('HSET', KEYS[1], 'epoch', fence)
        return fence
        """

    /// Replaces an experiment's statistics and counters with a rebuild's result, if the
    /// rebuild still holds its fence. Returns false if another rebuild took over.
    public func install(experiment: String, fence: String, epoch: String, snapshot: DatabaseSnapshot,
                        state: [Double], counters: [ArmCounters]) async throws -> Bool {
        var args = ["EVAL", Self.installScript, "2", Self.stateKey(experiment), Self.countersKey(experiment),
                    fence, epoch, snapshot.description, String(state.count)]
        for (i, v) in state.enumerated() { args += [String(i), String(v)] }
        for (arm, c) in counters.enumerated() {
            args += ["\(arm):assignments", String(c.assignments), "\(arm):rewards", String(c.rewards), "\(arm):reward_sum", String(c.rewardSum)]
        }
        return try await run([args])[0] == .integer(1)
    }

    static let installScript = """
        if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1], KEYS[2])
        redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'snapshot', ARGV[3])
        local n = tonumber(ARGV[4])
        local i = 5
        for _ = 1, n do
          if tonumber(ARGV[i + 1]) ~= 0 then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
          i = i + 2
        end
        while i <= #ARGV do
          if tonumber(ARGV[i + 1]) ~= 0 then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
          i = i + 2
        end
        return 1
        """

    /// A command that adds deltas and counter increments to an experiment's hashes if they
    /// belong to `epoch`, exactly once: `flush` (this replica's id and the sequence number of
    /// this flush of the experiment) is recorded in the statistics hash with the addition, and
    /// a flush already recorded is acknowledged without adding again. So a flush sent twice
    /// (its reply was lost, or another command of the pipeline failed) counts once.
    static func addCommand(experiment: String, epoch: String?, flush: FlushToken, delta: [Double], counters: [Int: ArmCounters]) -> [String] {
        var args = ["EVAL", addScript, "2", stateKey(experiment), countersKey(experiment), epoch ?? "",
                    "flush:" + flush.replica, String(flush.sequence)]
        let changed = delta.enumerated().filter { $0.element != 0 }
        args.append(String(changed.count))
        for (i, v) in changed { args += [String(i), String(v)] }
        for (arm, c) in counters.sorted(by: { $0.key < $1.key }) {
            if c.assignments != 0 { args += ["\(arm):assignments", "i", String(c.assignments)] }
            if c.rewards != 0 { args += ["\(arm):rewards", "i", String(c.rewards)] }
            if c.rewardSum != 0 { args += ["\(arm):reward_sum", "f", String(c.rewardSum)] }
        }
        return args
    }

    static func parseAddReply(_ reply: RedisReply) -> AddReply {
        if case .error(let message) = reply { return .failed(message) }
        guard case .array(let items) = reply, let first = items.first else { return .failed("unexpected reply \(reply)") }
        switch first {
        case .integer(1): return .applied
        case .integer(0):
            let epoch = items.count > 1 ? items[1].text ?? "" : ""
            return .otherEpoch(epoch, items.count > 2 ? items[2].text.flatMap(DatabaseSnapshot.init) : nil)
        case .integer(2): return .overflow(field: items.count > 1 ? items[1].text ?? "" : "")
        default: return .failed("unexpected reply \(reply)")
        }
    }

    /// Checks the epoch and the flush token, then checks that no sum becomes non-finite,
    /// and only then writes: a script that fails half-way keeps what it wrote, so every
    /// refusal comes before the first write.
    static let addScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if epoch ~= ARGV[1] then
          return {0, epoch or '', redis.call('HGET', KEYS[1], 'snapshot') or ''}
        end
        local done = redis.call('HGET', KEYS[1], ARGV[2])
        if done and tonumber(done) >= tonumber(ARGV[3]) then return {1} end
        local function finite(x) return x == x and x ~= math.huge and x ~= -math.huge end
        local n = tonumber(ARGV[4])
        local i = 5
        for _ = 1, n do
          local sum = (tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0) + tonumber(ARGV[i + 1])
          if not finite(sum) then return {2, ARGV[i]} end
          i = i + 2
        end
        local j = i
        while j <= #ARGV do
          local sum = (tonumber(redis.call('HGET', KEYS[2], ARGV[j])) or 0) + tonumber(ARGV[j + 2])
          if not finite(sum) or (ARGV[j + 1] == 'i' and math.abs(sum) >= 9.2e18) then return {2, ARGV[j]} end
          j = j + 3
        end
        i = 5
        for _ = 1, n do
          redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
          i = i + 2
        end
        while i <= #ARGV do
          if ARGV[i + 1] == 'i' then
            redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 2])
          else
            redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 2])
          end
          i = i + 3
        end
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        return {1}
        """

    public func ping() async throws {
        try await run([["PING"]])
    }

    /// Pipelines `commands` with concurrent callers' (one round trip); an error reply throws.
    @discardableResult
    func run(_ commands: [[String]]) async throws -> [RedisReply] {
        try await pipeline.run(commands)
    }

    public func flush(_ flushes: [StatisticsFlush]) async throws -> [StatisticsFlush.Reply] {
        var commands: [[String]] = []
        var indexes: [(add: Int?, read: Int?)] = []
        for f in flushes {
            var index: (add: Int?, read: Int?) = (nil, nil)
            if let a = f.addition {
                index.add = commands.count
                commands.append(Self.addCommand(experiment: f.experiment, epoch: a.epoch, flush: a.token, delta: a.delta, counters: a.counters))
            }
            if f.readLength != nil {
                index.read = commands.count
                commands.append(["HGETALL", Self.stateKey(f.experiment)])
            }
            indexes.append(index)
        }
        let replies = try await pipeline.runEach(commands)
        return zip(flushes, indexes).map { f, index in
            StatisticsFlush.Reply(added: index.add.map { Self.parseAddReply(replies[$0]) },
                                  read: index.read.map { StoredStatistics.parse(replies[$0], length: f.readLength ?? 0) })
        }
    }
}
