import Metrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Each replica's view of the policy statistics and counters that all replicas share in Redis.
///
/// Reads come from memory: the last statistics read from Redis, plus deltas this replica
/// has not flushed yet (so a replica always sees its own rewards at once). Rewards add
/// their deltas and counter increments locally, tagged with the transaction id of the
/// commit that stored them; the `run()` loop flushes them to Redis every `flushInterval`
/// in one pipeline (a Lua script per experiment that adds, so replicas never overwrite
/// each other) and, in the same pipeline, re-reads the statistics, so each replica sees
/// the others' rewards within `refreshInterval`.
///
/// Redis is a cache. When an experiment's statistics are missing there (Redis was flushed
/// or restarted empty), this replica asks its ``StatisticsRebuilder`` to rebuild them from
/// PostgreSQL; the flush script refuses deltas for any epoch but the hash's own, and when a
/// new epoch appears, deltas of commits its snapshot already counted are dropped — so the
/// rebuilt statistics equal what they were, and every reward is counted once.
///
/// If Redis cannot be reached, nothing pending is lost (it is retried), and callers get a
/// `StoreError(.unavailable)` from ``checkAvailable()`` until Redis answers again.
///
/// Each flush of an experiment is applied exactly once: it carries this replica's id and a
/// sequence number, which the script records with the addition and checks before adding.
/// A flush whose reply was lost (a timeout after Redis ran it) or that Redis refused (out of
/// memory, read-only) is sent again unchanged, with the same number, before anything newer
/// of that experiment; one that was applied already is then acknowledged without adding.
public final class StatisticsCache: Service, Sendable {
    let store: any StatisticsStore
    let flushInterval: Duration
    let refreshInterval: Duration
    let logger: Logger
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let health = NIOLockedValueBox<Health>(Health())
    private let flushLock = AsyncMutex()
    private let rebuilder = NIOLockedValueBox<StatisticsRebuilder?>(nil)
    private let rebuilding = NIOLockedValueBox<Set<String>>([])
    /// This replica's id in flush tokens, random per process.
    let replicaID = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    /// The last flush sequence number used (one counter for every experiment).
    private let lastSequence = NIOLockedValueBox<UInt64>(0)

    /// What one commit adds: policy deltas and counter increments.
    struct Contribution {
        var delta: [Double]
        var counters: [Int: ArmCounters] = [:]

        mutating func add(_ other: Contribution) {
            if delta.isEmpty { delta = other.delta } else if !other.delta.isEmpty {
                for i in delta.indices { delta[i] += other.delta[i] }
            }
            for (arm, c) in other.counters { counters[arm, default: ArmCounters()].add(c) }
        }

        mutating func count(arm: Int, _ c: ArmCounters) { counters[arm, default: ArmCounters()].add(c) }
    }

    struct Entry {
        /// The statistics in Redis at the last read (nil until read: counters only).
        var statistics: [Double]?
        /// The rebuild the statistics belong to, and the database snapshot it read.
        var epoch: String?
        var databaseSnapshot: DatabaseSnapshot?
        /// Not yet sent, per commit.
        var pending: [CommitID: Contribution] = [:]
        /// Sent with flush number `inflightSequence`, not yet acknowledged: sent again,
        /// unchanged, until Redis acknowledges it (pending waits meanwhile).
        var inflight: [CommitID: Contribution] = [:]
        var inflightSequence: UInt64?
        /// The sum of the deltas in `pending` and `inflight`.
        var unflushed: [Double] = []
        var lastRefresh: ContinuousClock.Instant = .now

        var view: [Double] {
            guard var v = statistics else { return [] }
            if unflushed.count == v.count { for i in v.indices { v[i] += unflushed[i] } }
            return v
        }

        /// Makes this entry belong to `epoch`: what its snapshot counted is dropped.
        mutating func adopt(epoch: String, snapshot: DatabaseSnapshot) {
            guard epoch != self.epoch else { return }
            self.epoch = epoch
            databaseSnapshot = snapshot
            pending = pending.filter { !snapshot.sees($0.key) }
            inflight = inflight.filter { !snapshot.sees($0.key) }
            if inflight.isEmpty { inflightSequence = nil }
            recomputeUnflushed()
        }

        /// Adds a learned reward's contribution of `commit`.
        mutating func add(_ contribution: Contribution, commit: CommitID) {
            pending[commit, default: Contribution(delta: [])].add(contribution)
            for i in contribution.delta.indices { unflushed[i] += contribution.delta[i] }
        }

        /// Marks the flush in flight as applied.
        mutating func acknowledge() {
            inflight = [:]
            inflightSequence = nil
        }

        mutating func recomputeUnflushed() {
            guard let length = statistics?.count else { unflushed = []; return }
            var sum = [Double](repeating: 0, count: length)
            for group in [pending, inflight] {
                for c in group.values where c.delta.count == length {
                    for i in sum.indices { sum[i] += c.delta[i] }
                }
            }
            unflushed = sum
        }
    }

    struct Health {
        var lastSuccess: ContinuousClock.Instant?
        var lastError: StoreError?
    }

    public init(store: any StatisticsStore, flushInterval: Duration = .milliseconds(20), refreshInterval: Duration = .milliseconds(100),
                logger: Logger) {
        self.store = store
        self.flushInterval = flushInterval
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// Sets what rebuilds statistics that Redis lost (wired once the catalog exists).
    public func install(rebuilder: StatisticsRebuilder) {
        self.rebuilder.withLockedValue { $0 = rebuilder }
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

    /// How long a first read waits for a rebuild that another replica is running.
    static let rebuildWait: Duration = .seconds(10)

    /// The statistics this replica sees for an experiment: the Redis statistics plus its own
    /// unflushed deltas. The first call for an experiment reads Redis, and rebuilds the
    /// statistics from PostgreSQL if Redis has none.
    public func statistics(experiment: String, length: Int) async throws -> [Double] {
        guard length > 0 else { return [] }
        if let view = entries.withLockedValue({ $0[experiment].map(\.view) }), view.count == length { return view }
        let deadline = ContinuousClock.now + Self.rebuildWait
        while true {
            switch try await store.storedStatistics(experiment: experiment, length: length) {
            case .ready(let epoch, let snapshot, let values):
                return entries.withLockedValue { entries in
                    var e = entries[experiment] ?? Entry()
                    if e.statistics?.count != length {
                        e.statistics = values
                        e.lastRefresh = .now
                        e.adopt(epoch: epoch, snapshot: snapshot)
                        e.recomputeUnflushed()
                        entries[experiment] = e
                    }
                    return e.view
                }
            case .missing:
                try await rebuild(experiment)
            case .corrupt(let reason):
                logger.error("statistics in Redis are corrupt; rebuilding them from PostgreSQL",
                             metadata: ["experiment": "\(experiment)", "reason": "\(reason)"])
                try await rebuild(experiment, force: true)
            case .rebuilding:
                guard ContinuousClock.now < deadline else {
                    throw StoreError(.unavailable, store: .redis,
                                     message: "the statistics of '\(experiment)' are being rebuilt from PostgreSQL; try again shortly")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Rebuilds `experiment`'s statistics from PostgreSQL if they are missing in Redis;
    /// if another rebuild holds them, waits (up to ``rebuildWait``) until it has installed them.
    /// With `force`, statistics that exist are replaced too (they are corrupt).
    func rebuild(_ experiment: String, force: Bool = false) async throws {
        guard let rebuilder = rebuilder.withLockedValue({ $0 }) else {
            throw StoreError(.unavailable, store: .redis, message: "the statistics of '\(experiment)' are missing and no rebuilder is configured")
        }
        if try await rebuilder.rebuild(experiment: experiment, force: force) != nil { return }
        let deadline = ContinuousClock.now + Self.rebuildWait
        while ContinuousClock.now < deadline {
            switch try await store.storedStatistics(experiment: experiment, length: 0) {
            case .ready: return
            case .missing: if try await rebuilder.rebuild(experiment: experiment, force: false) != nil { return }
            case .corrupt: if try await rebuilder.rebuild(experiment: experiment, force: true) != nil { return }
            case .rebuilding: try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Starts a rebuild in the background unless one is running on this replica.
    private func requestRebuild(_ experiment: String, force: Bool) {
        let start = rebuilding.withLockedValue { $0.insert(experiment).inserted }
        guard start else { return }
        Task {
            defer { _ = rebuilding.withLockedValue { $0.remove(experiment) } }
            do { try await rebuild(experiment, force: force) } catch {
                logger.error("rebuilding the statistics from PostgreSQL failed; will retry", metadata: ["experiment": "\(experiment)", "error": "\(error)"])
            }
        }
    }

    /// Adds a learned reward's delta locally; it reaches Redis with the next flush. `commit`
    /// is the transaction that stored the reward.
    public func add(experiment: String, commit: CommitID, delta: [Double]) {
        entries.withLockedValue { entries in
            guard let e = entries[experiment], e.statistics?.count == delta.count else {
                logger.error("a delta for statistics this replica has not read was dropped", metadata: ["experiment": "\(experiment)"])
                return
            }
            // Counted already by the rebuild this replica's statistics come from.
            if let snapshot = e.databaseSnapshot, snapshot.sees(commit) { return }
            // Mutated in place: a copy taken out of the dictionary would copy `pending` on write.
            entries[experiment]!.add(Contribution(delta: delta), commit: commit)
        }
    }

    /// Counts an assignment or a reward stored by `commit` locally; flushed with the deltas.
    public func count(experiment: String, arm: Int, commit: CommitID, assignments: Int64 = 0, rewards: Int64 = 0, rewardSum: Double = 0) {
        entries.withLockedValue { entries in
            if let snapshot = entries[experiment]?.databaseSnapshot, snapshot.sees(commit) { return }
            // Mutated in place (once per assignment): a copy would copy `pending` on write.
            entries[experiment, default: Entry()].pending[commit, default: Contribution(delta: [])]
                .count(arm: arm, ArmCounters(assignments: assignments, rewards: rewards, rewardSum: rewardSum))
        }
    }

    /// The flush-and-refresh loop, until graceful shutdown or cancellation; then it keeps
    /// flushing until nothing is pending (a flush into a new epoch takes two rounds) or
    /// `drainTimeout` passes. What a replica could not flush before it stopped is still in
    /// PostgreSQL: `switchboard rebuild-state` restores it.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: flushInterval)
            let missing = await flushLock.withLock { await self.flushOnce(refreshDue: true) }
            for (key, force) in missing { requestRebuild(key, force: force) }
        }
        let deadline = ContinuousClock.now + Self.drainTimeout
        await flush(refreshDue: false)
        while !isSettled && ContinuousClock.now < deadline {
            try? await ContinuousClock().sleep(until: .now + flushInterval)
            await flush(refreshDue: false)
        }
        if !isSettled {
            logger.error("stopped with deltas not flushed to Redis; run `switchboard rebuild-state` to restore them from PostgreSQL")
        }
    }

    /// How long a stopping replica keeps trying to flush what it holds.
    static let drainTimeout: Duration = .seconds(5)

    /// Flushes now (before reading counters from Redis, for instance), so what this replica
    /// counted is in Redis when it returns; statistics Redis lacks are rebuilt first (here,
    /// not in the background). Flushes never overlap.
    /// With `experiment`, rounds continue until that experiment's counts are sent (other
    /// experiments' traffic does not hold the caller); without, until nothing is pending.
    public func flush(refreshDue: Bool = false, experiment: String? = nil) async {
        // A flush into an epoch this replica did not know is refused, then sent again; one
        // into a hash a rebuild holds waits for it. Rounds until settled, for at most 2 s.
        let deadline = ContinuousClock.now + .seconds(2)
        var round = 0
        while true {
            let missing = await flushLock.withLock { await self.flushOnce(refreshDue: refreshDue) }
            for (key, force) in missing {
                do { try await rebuild(key, force: force) } catch {
                    logger.warning("rebuilding the statistics from PostgreSQL failed", metadata: ["experiment": "\(key)", "error": "\(error)"])
                }
            }
            round += 1
            if isSettled(experiment) || ContinuousClock.now >= deadline { return }
            if round >= 2 { try? await ContinuousClock().sleep(until: .now + .milliseconds(5)) }
        }
    }

    /// Whether nothing waits to be sent (for tests and shutdown).
    public var isSettled: Bool { isSettled(nil) }

    /// Whether nothing of `experiment` (of any experiment, if nil) waits to be sent.
    public func isSettled(_ experiment: String?) -> Bool {
        entries.withLockedValue { entries in
            if let experiment { return entries[experiment].map { $0.pending.isEmpty && $0.inflight.isEmpty } ?? true }
            return entries.values.allSatisfy { $0.pending.isEmpty && $0.inflight.isEmpty }
        }
    }

    /// One round trip: per experiment the flush in flight (sent again) or else a new one of
    /// everything pending, then a re-read of statistics that are due or were just written.
    /// Returns the experiments whose statistics the store lacks (false) or holds corrupt
    /// (true: a forced rebuild).
    private func flushOnce(refreshDue: Bool) async -> [String: Bool] {
        let now = ContinuousClock.now
        // Pending becomes a numbered flush in flight; the view stays whole while it is sent.
        let work: [StatisticsFlush] = entries.withLockedValue { entries in
            var work: [StatisticsFlush] = []
            for (key, var e) in entries {
                let length = e.statistics?.count ?? 0
                let due = refreshDue && length > 0 && now - e.lastRefresh >= refreshInterval
                if e.inflight.isEmpty && !e.pending.isEmpty {
                    e.inflight = e.pending
                    e.pending = [:]
                    e.inflightSequence = lastSequence.withLockedValue { $0 += 1; return $0 }
                }
                guard let sequence = e.inflightSequence, !e.inflight.isEmpty else {
                    if due { work.append(StatisticsFlush(experiment: key, addition: nil, readLength: length)) }
                    continue
                }
                var sum = Contribution(delta: [])
                for c in e.inflight.values { sum.add(c) }
                let addition = StatisticsFlush.Addition(epoch: e.epoch, token: FlushToken(replica: replicaID, sequence: sequence),
                                                        delta: sum.delta, counters: sum.counters)
                work.append(StatisticsFlush(experiment: key, addition: addition, readLength: length > 0 ? length : nil))
                entries[key] = e
            }
            return work
        }
        guard !work.isEmpty else { return [:] }
        let replies: [StatisticsFlush.Reply]
        do {
            let started = ContinuousClock.now
            replies = try await store.flush(work)
            Metrics.Timer(label: MetricNames.redisFlushSeconds).record(duration: ContinuousClock.now - started)
            health.withLockedValue { $0 = Health(lastSuccess: .now, lastError: nil) }
        } catch {
            // The store may or may not have applied the flushes: every flush in flight stays
            // as it is and is sent again with its number, so it counts once either way.
            if let error = error as? StoreError { health.withLockedValue { $0.lastError = error } }
            logger.warning("flushing the statistics failed; will retry", metadata: ["error": "\(error)"])
            return [:]
        }
        var missing: [String: Bool] = [:]
        entries.withLockedValue { entries in
            for (item, reply) in zip(work, replies) {
                guard var e = entries[item.experiment] else { continue }
                switch reply.added {
                case nil: break
                case .applied:
                    e.acknowledge()
                case .otherEpoch(let epoch, let snapshot):
                    if epoch.isEmpty {
                        missing[item.experiment] = false
                    } else if let snapshot, !epoch.hasPrefix(StoredStatistics.fencePrefix) {
                        e.adopt(epoch: epoch, snapshot: snapshot)  // sent again next time, into the new epoch
                    }
                case .overflow(let field):
                    // Never applicable: the sums would stop being numbers. Rewards and
                    // contexts are range-checked, so only a plugin's deltas can get here.
                    logger.error("a flush would make a statistic non-finite; its deltas are dropped",
                                 metadata: ["experiment": "\(item.experiment)", "field": "\(field)"])
                    e.acknowledge()
                case .failed(let message):
                    health.withLockedValue { $0.lastError = StoreError(.serverError, store: .redis, message: message) }
                    logger.warning("the statistics store refused a flush; will retry", metadata: ["experiment": "\(item.experiment)", "error": "\(message)"])
                }
                switch reply.read {
                case nil: break
                case .ready(let epoch, let snapshot, let values):
                    e.adopt(epoch: epoch, snapshot: snapshot)
                    e.statistics = values
                    e.lastRefresh = now
                case .missing:
                    if missing[item.experiment] == nil { missing[item.experiment] = false }
                case .corrupt(let reason):
                    logger.error("statistics in the store are corrupt; rebuilding them", metadata: ["experiment": "\(item.experiment)", "reason": "\(reason)"])
                    missing[item.experiment] = true
                case .rebuilding:
                    break  // keep serving the last statistics until the rebuild installs new ones
                }
                e.recomputeUnflushed()
                entries[item.experiment] = e
            }
        }
        return missing
    }
}

extension ArmCounters {
    mutating func add(_ other: ArmCounters) {
        assignments += other.assignments
        rewards += other.rewards
        rewardSum += other.rewardSum
    }
}
