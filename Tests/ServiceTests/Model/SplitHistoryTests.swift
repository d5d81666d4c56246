import ExperimentService
import PluginSupport
import Testing

/// How a fixed split's units follow weight changes (``SplitHistory``), by simulation over
/// 200,000 units against the shares computed by hand.
@Suite("A weight change moves as few units as possible, and each arm gets exactly its new share")
struct SplitHistoryTests {
    static let units = 200_000

    /// Each unit's hash and its arm under the first shares (drawn from its own hash).
    static func start(_ shares: [Double]) -> [(hash: UInt64, arm: Int)] {
        (0..<units).map { i in
            let hash = StableHash.unitHash(salt: "split-history", unit: "unit-\(i)")
            var u = StableHash.unitInterval(StableHash.mix(hash ^ 0xabcdef)), arm = shares.count - 1
            for (j, s) in shares.enumerated() {
                u -= s
                if u < 0 { arm = j; break }
            }
            return (hash, arm)
        }
    }

    @Test("50/50 → 20/80, then a third arm: shares follow; only shrinking arms' units move, the total variation distance of them")
    func minimalMovement() {
        let history = SplitHistory(weights: [[1, 1], [1, 4], [1, 4, 5]])
        #expect(history.moved.count == 2)
        #expect(abs(history.moved[0] - 0.3) < 1e-12 && abs(history.moved[1] - 0.5) < 1e-12)
        let first = Self.start([0.5, 0.5])
        let afterOne = SplitHistory(weights: Array(history.weights.prefix(2)))
        var counts = [0, 0], moved = 0, movedFromGrowing = 0
        for u in first {
            let arm = afterOne.arm(initial: u.arm, unitHash: u.hash)
            counts[arm] += 1
            if arm != u.arm { moved += 1; if u.arm == 1 { movedFromGrowing += 1 } }
        }
        let n = Double(Self.units)
        #expect(abs(Double(counts[0]) / n - 0.2) < 0.005 && abs(Double(counts[1]) / n - 0.8) < 0.005, "\(counts)")
        #expect(abs(Double(moved) / n - 0.3) < 0.005, "moved \(moved)")
        #expect(movedFromGrowing == 0)

        // The third arm takes half the traffic: both arms shrink by half, nobody moves between them.
        var three = [0, 0, 0], between = 0
        for u in first {
            let before = afterOne.arm(initial: u.arm, unitHash: u.hash), after = history.arm(initial: u.arm, unitHash: u.hash)
            three[after] += 1
            if before != after && after != 2 { between += 1 }
        }
        #expect(zip(three, [0.1, 0.4, 0.5]).allSatisfy { abs(Double($0) / n - $1) < 0.005 }, "\(three)")
        #expect(between == 0)
        #expect(history.shares == [0.1, 0.4, 0.5])
    }

    @Test("a retired arm (weight 0) keeps none of its units; the others keep all of theirs")
    func retirement() {
        let history = SplitHistory(weights: [[1, 1, 2], [1, 0, 2]])
        let first = Self.start([0.25, 0.25, 0.5])
        var counts = [0, 0, 0]
        for u in first {
            let arm = history.arm(initial: u.arm, unitHash: u.hash)
            counts[arm] += 1
            if u.arm != 1 { #expect(arm == u.arm) }
        }
        #expect(counts[1] == 0)
        #expect(abs(Double(counts[0]) / Double(Self.units) - 1.0 / 3) < 0.005 && abs(Double(counts[2]) / Double(Self.units) - 2.0 / 3) < 0.005)
    }
}
