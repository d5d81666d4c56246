/// The PostgreSQL transaction id (`xid8`, from `pg_current_xact_id()`) of the commit that
/// stored a decision or a reward. Shared state tagged with it can be checked against a
/// ``DatabaseSnapshot``: was this write already counted by a rebuild that read that snapshot?
public struct CommitID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CommitID, b: CommitID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A PostgreSQL snapshot (`pg_current_snapshot()`, text form `xmin:xmax:xip,...`): which
/// transactions a reader saw as committed.
public struct DatabaseSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// Every transaction below this one had finished.
    public var xmin: UInt64
    /// No transaction from this one on had started.
    public var xmax: UInt64
    /// Transactions in `xmin..<xmax` still running (invisible).
    public var inProgress: Set<UInt64>

    public init(xmin: UInt64, xmax: UInt64, inProgress: Set<UInt64> = []) {
        self.xmin = xmin
        self.xmax = xmax
        self.inProgress = inProgress
    }

    /// Parses the text form; nil if it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let xmin = UInt64(parts[0]), let xmax = UInt64(parts[1]), xmin <= xmax else { return nil }
        var running = Set<UInt64>()
        for item in parts[2].split(separator: ",") {
            guard let xid = UInt64(item), xid >= xmin, xid < xmax else { return nil }
            running.insert(xid)
        }
        self.init(xmin: xmin, xmax: xmax, inProgress: running)
    }

    /// Whether a transaction known to have committed is visible in this snapshot, i.e. a
    /// reader of the snapshot saw its rows.
    public func sees(_ commit: CommitID) -> Bool {
        commit.rawValue < xmin || (commit.rawValue < xmax && !inProgress.contains(commit.rawValue))
    }

    public var description: String {
        "\(xmin):\(xmax):" + inProgress.sorted().map(String.init).joined(separator: ",")
    }
}
