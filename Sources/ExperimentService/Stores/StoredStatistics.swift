/// An experiment's statistics as read from the ``StatisticsStore``.
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
    public static let fencePrefix = "rebuilding:"
}
