import PluginSupport

/// A fixed split whose weights changed while it ran: the arm of a unit is its arm under
/// the first weights, carried through each change so that as few units as possible move.
///
/// At a change from shares `old` to `new`, a unit moves only if its arm shrinks: it is
/// released with probability `(old[a] − new[a]) / old[a]` (by a hash of the unit and the
/// change), and a released unit goes to a growing arm `j` with probability proportional to
/// `new[j] − old[j]`. Each arm then holds exactly its new share, and the units that move are
/// `Σ max(0, old[a] − new[a])`, the total variation distance between the two splits: no
/// split with the new shares can move fewer, since every shrinking arm must lose at least
/// that much of its traffic. Units of arms that do not shrink never move.
public struct SplitHistory: Sendable, Equatable {
    /// The arm weights of each change, first to last (an arm added later is missing from
    /// the weights before it).
    public let weights: [[Double]]
    /// The shares of each change, computed once (assignment reads them per request).
    private let steps: [[Double]]

    public init(weights: [[Double]]) {
        self.weights = weights
        self.steps = weights.map(Self.shares)
    }

    /// The most weight changes an experiment keeps (each assignment walks them).
    public static let maxChanges = 100

    /// Whether the weights ever changed (otherwise the first split is the split).
    public var changed: Bool { weights.count > 1 }

    /// The current shares.
    public var shares: [Double] { steps.last ?? [] }

    /// The arm of a unit whose arm under the first weights was `initial`.
    public func arm(initial: Int, unitHash: UInt64) -> Int {
        var arm = initial
        for step in steps.indices.dropFirst() {
            let old = steps[step - 1], new = steps[step]
            guard old.indices.contains(arm), new.indices.contains(arm), new[arm] < old[arm], old[arm] > 0 else { continue }
            let release = (old[arm] - new[arm]) / old[arm]
            guard StableHash.unitInterval(StableHash.mix(unitHash ^ Self.key(step, 1))) < release else { continue }
            // Growth per arm; its total is the released share, old[arm] − new[arm] summed over shrinking arms.
            var total = 0.0
            for j in new.indices { total += max(0, new[j] - (old.indices.contains(j) ? old[j] : 0)) }
            guard total > 0 else { continue }
            var target = StableHash.unitInterval(StableHash.mix(unitHash ^ Self.key(step, 2))) * total
            for j in new.indices {
                let g = max(0, new[j] - (old.indices.contains(j) ? old[j] : 0))
                guard g > 0 else { continue }
                arm = j
                target -= g
                if target < 0 { break }
            }
        }
        return arm
    }

    /// The fraction of units that moved at each change (the total variation distance).
    public var moved: [Double] {
        steps.indices.dropFirst().map { step in
            zip(steps[step - 1], steps[step]).reduce(0) { $0 + max(0, $1.0 - $1.1) }
        }
    }

    static func shares(_ weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        return total > 0 ? weights.map { $0 / total } : weights
    }

    /// A key per change and purpose, so each change draws its own independent bits.
    static func key(_ step: Int, _ purpose: UInt64) -> UInt64 {
        StableHash.mix(0x5b17_4157_0000_0000 &+ UInt64(step) &* 4 &+ purpose)
    }
}
