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
    /// The arm weights of each change, first to last (each as long as the arm list, new
    /// arms weighing 0 before they were added).
    public let weights: [[Double]]

    public init(weights: [[Double]]) { self.weights = weights }

    /// Whether the weights ever changed (otherwise the first split is the split).
    public var changed: Bool { weights.count > 1 }

    /// The current shares.
    public var shares: [Double] { Self.shares(weights.last ?? []) }

    /// The arm of a unit whose arm under the first weights was `initial`.
    public func arm(initial: Int, unitHash: UInt64) -> Int {
        var arm = initial
        for step in weights.indices.dropFirst() {
            let old = Self.shares(weights[step - 1]), new = Self.shares(weights[step])
            guard old.indices.contains(arm), new.indices.contains(arm), new[arm] < old[arm], old[arm] > 0 else { continue }
            let release = (old[arm] - new[arm]) / old[arm]
            guard StableHash.unitInterval(StableHash.mix(unitHash ^ Self.key(step, 1))) < release else { continue }
            let growth = new.indices.map { max(0, new[$0] - (old.indices.contains($0) ? old[$0] : 0)) }
            let total = growth.reduce(0, +)
            guard total > 0 else { continue }
            var target = StableHash.unitInterval(StableHash.mix(unitHash ^ Self.key(step, 2))) * total
            for (j, g) in growth.enumerated() where g > 0 {
                arm = j
                target -= g
                if target < 0 { break }
            }
        }
        return arm
    }

    /// The fraction of units that moved at each change (the total variation distance).
    public var moved: [Double] {
        weights.indices.dropFirst().map { step in
            let old = Self.shares(weights[step - 1]), new = Self.shares(weights[step])
            return zip(old, new).reduce(0) { $0 + max(0, $1.0 - $1.1) }
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
