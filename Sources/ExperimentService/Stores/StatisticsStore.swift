/// The statistics every replica shares (Redis in production): per experiment, the policy
/// statistics (a vector of numbers the policy defines, with the epoch of the rebuild that
/// made them) and per-arm counters. Replicas write through ``StatisticsCache``, which
/// batches additions into ``StatisticsFlush``es; ``StatisticsRebuilder`` rebuilds them
/// from the decision log when they are lost.
public protocol StatisticsStore: Sendable {
    /// The counters of arms `0..<armCount`.
    func counters(experiment: String, armCount: Int) async throws -> [ArmCounters]
    /// An experiment's statistics (`length` values) and the rebuild they belong to.
    func storedStatistics(experiment: String, length: Int) async throws -> StoredStatistics
    /// Sends flushes in one round trip: each adds its values exactly once (if its epoch
    /// holds) and then, if asked, reads the statistics back. One reply per flush, in order.
    func flush(_ flushes: [StatisticsFlush]) async throws -> [StatisticsFlush.Reply]
    /// Fences an experiment's statistics for a rebuild (their epoch becomes
    /// `rebuilding:<token>:<deadline>`, so replicas hold their additions). Without `force`
    /// only missing statistics are fenced; with `force`, built ones too. A fence past its
    /// `lease` may be taken over. Returns the fence, or nil if another rebuild holds the
    /// statistics (or, without `force`, they exist).
    func fence(experiment: String, token: String, lease: Duration, force: Bool) async throws -> String?
    /// Replaces an experiment's statistics and counters with a rebuild's result, if the
    /// rebuild still holds its fence. Returns false if another rebuild took over.
    func install(experiment: String, fence: String, epoch: String, snapshot: DatabaseSnapshot,
                 state: [Double], counters: [ArmCounters]) async throws -> Bool
    /// Throws if the store cannot be reached.
    func ping() async throws
}

/// One experiment's part of a flush: values to add (once) and whether to read back.
public struct StatisticsFlush: Sendable {
    public var experiment: String
    /// What to add, or nil to only read.
    public var addition: Addition?
    /// The statistics' length, to read them back after the addition; nil: no read.
    public var readLength: Int?

    public init(experiment: String, addition: Addition?, readLength: Int?) {
        self.experiment = experiment
        self.addition = addition
        self.readLength = readLength
    }

    /// Deltas and counter increments for one epoch, sent under a flush token.
    public struct Addition: Sendable {
        /// The epoch the values belong to (nil: the replica knows none yet).
        public var epoch: String?
        public var token: FlushToken
        public var delta: [Double]
        public var counters: [Int: ArmCounters]

        public init(epoch: String?, token: FlushToken, delta: [Double], counters: [Int: ArmCounters]) {
            self.epoch = epoch
            self.token = token
            self.delta = delta
            self.counters = counters
        }
    }

    /// What the store did with one experiment's flush.
    public struct Reply: Sendable, Equatable {
        public var added: AddReply?
        public var read: StoredStatistics?

        public init(added: AddReply?, read: StoredStatistics?) {
            self.added = added
            self.read = read
        }
    }
}

/// Who sent a flush, and which of that replica's flushes it is: a flush sent twice (its
/// reply was lost) is applied once.
public struct FlushToken: Sendable, Equatable {
    /// Random per process: replicas never share one.
    public var replica: String
    /// Increases with each new flush of an experiment by this replica; a flush sent again keeps its number.
    public var sequence: UInt64

    public init(replica: String, sequence: UInt64) {
        self.replica = replica
        self.sequence = sequence
    }
}

/// What the store did with an addition.
public enum AddReply: Sendable, Equatable {
    /// Added now, or added by an earlier send of the same flush.
    case applied
    /// The statistics belong to another epoch (`""` when missing; a fence while rebuilt); nothing was added.
    case otherEpoch(String, DatabaseSnapshot?)
    /// Adding would make a statistic or counter non-finite; nothing was added.
    case overflow(field: String)
    /// The store refused the addition (out of memory, read-only replica, ...); nothing was added.
    case failed(String)
}
