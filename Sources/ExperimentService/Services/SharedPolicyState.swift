import Metrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Each replica's view of the policy statistics and counters that all replicas share in Redis.
///
/// Reads come from memory: the last snapshot read from Redis, plus deltas this replica has
/// not flushed yet (so a replica always sees its own rewards at once). Rewards add their
/// deltas and counter increments locally; the `run()` loop flushes them to Redis every
/// `flushInterval` in one pipeline (`HINCRBYFLOAT`/`HINCRBY`, which add, so replicas never
/// overwrite each other) and, in the same pipeline, re-reads every active experiment's
/// statistics, so each replica sees the others' rewards within `refreshInterval`.
///
/// If Redis cannot be reached, nothing pending is lost (it is retried), and callers get a
/// `StoreError(.unavailable)` from ``checkAvailable()`` until Redis answers again.
public final class SharedPolicyState: Service, Sendable {
    let store: RedisStateStore
    let flushInterval: Duration
    let refreshInterval: Duration
    let logger: Logger
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let health = NIOLockedValueBox<Health>(Health())
    private let flushLock = AsyncMutex()

    struct Entry {
        var snapshot: [Double]
        var pending: [Double]
        var inflight: [Double]
        var counters: [Int: ArmCounters] = [:]
        var inflightCounters: [Int: ArmCounters] = [:]
        var lastRefresh: ContinuousClock.Instant
    }

    struct Health {
        var lastSuccess: ContinuousClock.Instant?
        var lastError: StoreError?
    }

    public init(store: RedisStateStore, flushInterval: Duration = .milliseconds(20), refreshInterval: Duration = .milliseconds(100),
                logger: Logger) {
        self.store = store
        self.flushInterval = flushInterval
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// Throws if Redis has not answered recently: a fresh successful exchange within the
    /// last second passes at once; otherwise Redis is pinged now.
    public func checkAvailable() async throws {
        let recent = health.withLockedValue { h in
            h.lastSuccess.map { ContinuousClock.now - $0 < .seconds(1) } ?? false
        }
        if recent { return }
        do {
            try await store.ping()
            health.withLockedValue { $0 = Health(lastSuccess: .now, lastError: nil) }
        } catch let error as StoreError {
            health.withLockedValue { $0.lastError = error }
            throw error
        }
    }

    /// The statistics this replica sees for an experiment: the Redis snapshot plus its own
    /// unflushed deltas. The first call for an experiment reads (and if needed initialises) Redis.
    public func statistics(experiment: String, length: Int, prior: () throws -> [Double]) async throws -> [Double] {
        guard length > 0 else { return [] }
        if let view = entries.withLockedValue({ $0[experiment].map(Self.view) }), view.count == length { return view }
        var snapshot = try await store.policyState(experiment: experiment, length: length)
        if snapshot == nil {
            try await store.initializePolicyState(experiment: experiment, prior: try prior())
            snapshot = try await store.policyState(experiment: experiment, length: length)
        }
        let loaded: [Double]
        if let snapshot { loaded = snapshot } else { loaded = try prior() }
        return entries.withLockedValue { entries in
            if entries[experiment] == nil || entries[experiment]!.snapshot.count != length {
                entries[experiment] = Entry(snapshot: loaded, pending: .init(repeating: 0, count: length),
                                            inflight: .init(repeating: 0, count: length), lastRefresh: .now)
            }
            return Self.view(entries[experiment]!)
        }
    }

    static func view(_ e: Entry) -> [Double] {
        var v = e.snapshot
        for i in v.indices { v[i] += e.pending[i] + e.inflight[i] }
        return v
    }

    /// Adds a reward's delta locally; it reaches Redis with the next flush.
    public func add(experiment: String, delta: [Double]) {
        entries.withLockedValue { entries in
            guard var e = entries[experiment], e.pending.count == delta.count else { return }
            for i in delta.indices { e.pending[i] += delta[i] }
            entries[experiment] = e
        }
    }

    /// Counts an assignment or a reward locally; flushed with the deltas.
    public func count(experiment: String, arm: Int, assignments: Int64 = 0, rewards: Int64 = 0, rewardSum: Double = 0) {
        entries.withLockedValue { entries in
            var e = entries[experiment] ?? Entry(snapshot: [], pending: [], inflight: [], lastRefresh: .now)
            var c = e.counters[arm] ?? ArmCounters()
            c.assignments += assignments
            c.rewards += rewards
            c.rewardSum += rewardSum
            e.counters[arm] = c
            entries[experiment] = e
        }
    }

    /// The flush-and-refresh loop (until graceful shutdown or cancellation; a last flush follows).
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: flushInterval)
            await flush(refreshDue: true)
        }
        await flush(refreshDue: false)
    }

    /// Flushes now (before reading counters from Redis, for instance). Flushes never overlap.
    public func flush(refreshDue: Bool = false) async {
        await flushLock.withLock { await self.flushOnce(refreshDue: refreshDue) }
    }

    /// One pipeline: every pending delta and counter, then a re-read of statistics that are due.
    private func flushOnce(refreshDue: Bool) async {
        let now = ContinuousClock.now
        // Move pending to inflight, so the view stays whole while the pipeline runs.
        let work: [(key: String, delta: [Double], counters: [Int: ArmCounters], refresh: Bool)] = entries.withLockedValue { entries in
            var work: [(String, [Double], [Int: ArmCounters], Bool)] = []
            for (key, var e) in entries {
                let hasDelta = e.pending.contains { $0 != 0 }
                let due = refreshDue && !e.snapshot.isEmpty && now - e.lastRefresh >= refreshInterval
                guard hasDelta || !e.counters.isEmpty || due else { continue }
                for i in e.pending.indices { e.inflight[i] += e.pending[i]; e.pending[i] = 0 }
                for (arm, c) in e.counters { e.inflightCounters[arm, default: ArmCounters()].add(c) }
                e.counters = [:]
                work.append((key, e.inflight, e.inflightCounters, due || hasDelta))
                entries[key] = e
            }
            return work
        }
        guard !work.isEmpty else { return }
        var commands: [[String]] = []
        var reads: [(key: String, index: Int)] = []
        for item in work {
            let stateKey = RedisStateStore.stateKey(item.key)
            for (i, v) in item.delta.enumerated() where v != 0 {
                commands.append(["HINCRBYFLOAT", stateKey, String(i), String(v)])
            }
            let countersKey = RedisStateStore.countersKey(item.key)
            for (arm, c) in item.counters {
                if c.assignments != 0 { commands.append(["HINCRBY", countersKey, "\(arm):assignments", String(c.assignments)]) }
                if c.rewards != 0 { commands.append(["HINCRBY", countersKey, "\(arm):rewards", String(c.rewards)]) }
                if c.rewardSum != 0 { commands.append(["HINCRBYFLOAT", countersKey, "\(arm):reward_sum", String(c.rewardSum)]) }
            }
            if item.refresh {
                reads.append((item.key, commands.count))
                commands.append(["HGETALL", stateKey])
            }
        }
        do {
            let started = ContinuousClock.now
            let replies = try await store.run(commands)
            Metrics.Timer(label: MetricNames.redisFlushSeconds).record(duration: ContinuousClock.now - started)
            health.withLockedValue { $0 = Health(lastSuccess: .now, lastError: nil) }
            entries.withLockedValue { entries in
                for item in work {
                    guard var e = entries[item.key] else { continue }
                    for i in e.inflight.indices { e.inflight[i] = 0 }
                    e.inflightCounters = [:]
                    if let read = reads.first(where: { $0.key == item.key }), !e.snapshot.isEmpty,
                       let fresh = RedisStateStore.parseState(replies[read.index], length: e.snapshot.count) {
                        e.snapshot = fresh
                        e.lastRefresh = now
                    }
                    entries[item.key] = e
                }
            }
        } catch {
            // Keep everything: inflight goes back to pending and is retried next time.
            if let error = error as? StoreError { health.withLockedValue { $0.lastError = error } }
            logger.warning("flushing shared state to Redis failed; will retry", metadata: ["error": "\(error)"])
            entries.withLockedValue { entries in
                for item in work {
                    guard var e = entries[item.key] else { continue }
                    for i in e.inflight.indices { e.pending[i] += e.inflight[i]; e.inflight[i] = 0 }
                    for (arm, c) in e.inflightCounters { e.counters[arm, default: ArmCounters()].add(c) }
                    e.inflightCounters = [:]
                    entries[item.key] = e
                }
            }
        }
    }
}

extension ArmCounters {
    mutating func add(_ other: ArmCounters) {
        assignments += other.assignments
        rewards += other.rewards
        rewardSum += other.rewardSum
    }
}
