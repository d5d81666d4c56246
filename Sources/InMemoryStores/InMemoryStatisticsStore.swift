import ExperimentService
import Foundation

/// The statistics in memory, the twin of `RedisStatisticsStore` with the rules of its Lua
/// scripts: an addition applies only to the epoch it names, once per flush token, and only
/// if every sum stays finite; a fence holds the statistics for one rebuild until its lease
/// ends; an install replaces them only while its fence holds.
public final class InMemoryStatisticsStore: StatisticsStore, @unchecked Sendable {
    private struct Statistics {
        var epoch: String
        var snapshot: DatabaseSnapshot?
        var values: [Int: Double] = [:]
        /// The last flush sequence number applied, per replica.
        var flushes: [String: UInt64] = [:]
    }

    private let lock = NSLock()
    private var statistics: [String: Statistics] = [:]
    private var counters: [String: [Int: ArmCounters]] = [:]

    public init() {}

    /// Forgets everything, as a Redis that restarted empty.
    public func wipe() {
        lock.withLock {
            statistics = [:]
            counters = [:]
        }
    }

    public func counters(experiment: String, armCount: Int) async throws -> [ArmCounters] {
        lock.withLock { (0..<armCount).map { counters[experiment]?[$0] ?? ArmCounters() } }
    }

    public func storedStatistics(experiment: String, length: Int) async throws -> StoredStatistics {
        lock.withLock { read(experiment, length: length) }
    }

    private func read(_ experiment: String, length: Int) -> StoredStatistics {
        guard let s = statistics[experiment] else { return .missing }
        if s.epoch.hasPrefix(StoredStatistics.fencePrefix) { return .rebuilding }
        guard let snapshot = s.snapshot else { return .missing }
        return .ready(epoch: s.epoch, snapshot: snapshot, values: (0..<length).map { s.values[$0] ?? 0 })
    }

    public func flush(_ flushes: [StatisticsFlush]) async throws -> [StatisticsFlush.Reply] {
        lock.withLock {
            flushes.map { f in
                StatisticsFlush.Reply(added: f.addition.map { add($0, to: f.experiment) },
                                      read: f.readLength.map { read(f.experiment, length: $0) })
            }
        }
    }

    private func add(_ a: StatisticsFlush.Addition, to experiment: String) -> AddReply {
        guard var s = statistics[experiment], s.epoch == a.epoch else {
            return .otherEpoch(statistics[experiment]?.epoch ?? "", statistics[experiment]?.snapshot)
        }
        if let done = s.flushes[a.token.replica], done >= a.token.sequence { return .applied }
        var values = s.values
        for (i, v) in a.delta.enumerated() where v != 0 {
            let sum = (values[i] ?? 0) + v
            guard sum.isFinite else { return .overflow(field: String(i)) }
            values[i] = sum
        }
        var arms = counters[experiment] ?? [:]
        for (arm, c) in a.counters {
            var total = arms[arm] ?? ArmCounters()
            let (assignments, o1) = total.assignments.addingReportingOverflow(c.assignments)
            let (rewards, o2) = total.rewards.addingReportingOverflow(c.rewards)
            let sum = total.rewardSum + c.rewardSum
            guard !o1, !o2, sum.isFinite else { return .overflow(field: "\(arm)") }
            total = ArmCounters(assignments: assignments, rewards: rewards, rewardSum: sum)
            arms[arm] = total
        }
        s.values = values
        s.flushes[a.token.replica] = a.token.sequence
        statistics[experiment] = s
        counters[experiment] = arms
        return .applied
    }

    public func fence(experiment: String, token: String, lease: Duration, force: Bool) async throws -> String? {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        return lock.withLock {
            if let epoch = statistics[experiment]?.epoch {
                if let deadline = Self.fenceDeadline(epoch) {
                    if deadline > now { return nil }
                } else if !force {
                    return nil
                }
            }
            let fence = StoredStatistics.fencePrefix + token + ":" + String(now + UInt64(lease.components.seconds * 1000))
            var s = statistics[experiment] ?? Statistics(epoch: fence)
            s.epoch = fence
            statistics[experiment] = s
            return fence
        }
    }

    /// The deadline (ms) of a fence `rebuilding:<token>:<deadline>`, or nil for an epoch.
    private static func fenceDeadline(_ epoch: String) -> UInt64? {
        guard epoch.hasPrefix(StoredStatistics.fencePrefix), let last = epoch.split(separator: ":").last else { return nil }
        return UInt64(last)
    }

    public func install(experiment: String, fence: String, epoch: String, snapshot: DatabaseSnapshot,
                        state: [Double], counters: [ArmCounters]) async throws -> Bool {
        lock.withLock {
            guard statistics[experiment]?.epoch == fence else { return false }
            var values: [Int: Double] = [:]
            for (i, v) in state.enumerated() where v != 0 { values[i] = v }
            statistics[experiment] = Statistics(epoch: epoch, snapshot: snapshot, values: values)
            self.counters[experiment] = Dictionary(uniqueKeysWithValues: counters.enumerated().map { ($0.offset, $0.element) })
            return true
        }
    }

    public func ping() async throws {}
}
