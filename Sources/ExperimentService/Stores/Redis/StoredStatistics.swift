/// An experiment's statistics hash as read from Redis.
///
/// Each hash belongs to an *epoch*: the rebuild from PostgreSQL that created it, with the
/// database snapshot that rebuild read. Replicas add deltas only to the epoch they know
/// (a Lua script checks it), and drop deltas of commits the epoch's snapshot already saw,
/// so a rebuild is exact while rewards keep arriving.
public enum StoredStatistics: Sendable, Equatable {
    /// No statistics: never built, or Redis lost them. A rebuild creates them.
    case missing
    /// A rebuild holds the hash (until the deadline in its fence); deltas wait.
    case rebuilding
    /// Statistics built by rebuild `epoch` from `snapshot`, plus every delta added since.
    case ready(epoch: String, snapshot: DatabaseSnapshot, values: [Double])
    /// A statistic that is not a finite number (written by something else): a forced rebuild replaces it.
    case corrupt(reason: String)

    /// The epoch field while a rebuild runs: `rebuilding:<token>:<deadline in ms>`.
    static let fencePrefix = "rebuilding:"

    /// Parses an `HGETALL` of a statistics hash: fields `epoch`, `snapshot` and one per
    /// statistic index (absent = 0).
    static func parse(_ reply: RedisReply, length: Int) -> StoredStatistics {
        guard case .array(let items) = reply, !items.isEmpty else { return .missing }
        var values = [Double](repeating: 0, count: length)
        var epoch: String?, snapshot: DatabaseSnapshot?
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard let field = items[i].text, let value = items[i + 1].text else { continue }
            switch field {
            case "epoch": epoch = value
            case "snapshot": snapshot = DatabaseSnapshot(value)
            default:
                // Range-checked: Double("inf") parses, and the policy must never see it.
                if let index = Int(field), values.indices.contains(index) {
                    guard let v = Double(value), v.isFinite else { return .corrupt(reason: "statistic \(index) is '\(value.prefix(32))'") }
                    values[index] = v
                }
            }
        }
        guard let epoch else { return .missing }
        if epoch.hasPrefix(fencePrefix) { return .rebuilding }
        guard let snapshot else { return .missing }
        return .ready(epoch: epoch, snapshot: snapshot, values: values)
    }
}
