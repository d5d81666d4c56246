import Policies
import Testing

@Suite("Weighted hash split")
struct WeightedHashSplitTests {
    static let units = (0..<100_000).map { "user-\($0)" }

    func split(_ weights: [Double], salt: String = "exp-salt", names: [String]? = nil) throws -> WeightedHashSplit {
        let names = names ?? weights.indices.map { "arm\($0)" }
        return try WeightedHashSplit(salt: salt, arms: zip(names, weights).map { .init(name: $0, weight: $1) })
    }

    func assignments(_ split: WeightedHashSplit) -> [Int] {
        Self.units.map { split.assign(unit: $0).arm }
    }

    @Test("observed shares are within 1 percentage point of the weights over 100,000 units",
          arguments: [[1.0, 1.0], [1, 2, 3, 4], [0.1, 0.9], [5, 0, 5], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]])
    func sharesMatchWeights(weights: [Double]) throws {
        let s = try split(weights)
        var counts = [Int](repeating: 0, count: weights.count)
        for arm in assignments(s) { counts[arm] += 1 }
        let total = weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            let observed = Double(counts[i]) / Double(Self.units.count)
            #expect(abs(observed - w / total) < 0.01, "arm \(i): observed \(observed), expected \(w / total)")
        }
    }

    @Test("the propensity is the arm's share of the total weight")
    func propensity() throws {
        let s = try split([1, 3])
        for unit in Self.units.prefix(100) {
            let (arm, p) = s.assign(unit: unit)
            #expect(p == (arm == 0 ? 0.25 : 0.75))
        }
    }

    @Test("the same unit always gets the same arm, and another salt reshuffles units")
    func deterministicAndSalted() throws {
        let a = assignments(try split([1, 1, 1]))
        let b = assignments(try split([1, 1, 1]))
        let c = assignments(try split([1, 1, 1], salt: "other-salt"))
        #expect(a == b)
        let agreement = Double(zip(a, c).filter { $0 == $1 }.count) / Double(a.count)
        #expect(abs(agreement - 1.0 / 3.0) < 0.01, "another salt should be independent; agreement \(agreement)")
    }

    @Test("raising one weight moves units only into that arm, and only as many as its share grew")
    func raisingOneWeightMovesOnlyIntoIt() throws {
        let before = assignments(try split([1, 1, 1, 1]))
        let after = assignments(try split([1, 2, 1, 1]))  // arm1: 25% -> 40%
        let moved = zip(before, after).filter { $0 != $1 }
        #expect(moved.allSatisfy { $0.1 == 1 }, "a unit moved between arms whose weights did not change")
        let fraction = Double(moved.count) / Double(before.count)
        #expect(abs(fraction - 0.15) < 0.01, "moved \(fraction), expected 0.15")
    }

    @Test("lowering one weight moves units only out of that arm")
    func loweringOneWeightMovesOnlyOutOfIt() throws {
        let before = assignments(try split([1, 1, 1, 1]))
        let after = assignments(try split([1, 1, 1, 0.25]))
        let moved = zip(before, after).filter { $0 != $1 }
        #expect(moved.allSatisfy { $0.0 == 3 }, "a unit moved between arms whose weights did not change")
        // arm3: 25% -> 0.25/3.25 = 7.69%
        let fraction = Double(moved.count) / Double(before.count)
        #expect(abs(fraction - (0.25 - 0.25 / 3.25)) < 0.01)
    }

    @Test("adding an arm moves units only into the new arm; reordering arms moves nobody")
    func addingAndReordering() throws {
        let before = assignments(try split([1, 1], names: ["a", "b"]))
        let grown = try split([1, 1, 1], names: ["a", "b", "c"])
        for (unit, old) in zip(Self.units, before) {
            let new = grown.assign(unit: unit).arm
            #expect(new == old || new == 2)
        }
        let reordered = try split([1, 1], names: ["b", "a"])
        let names = ["a", "b"]
        for (unit, old) in zip(Self.units.prefix(10_000), before) {
            #expect(reordered.arms[reordered.assign(unit: unit).arm].name == names[old])
        }
    }

    @Test("version 1 splits never change: pinned assignments of known units")
    func pinnedAssignments() throws {
        let split = try WeightedHashSplit(salt: "pinned", arms: [.init(name: "control", weight: 1), .init(name: "green", weight: 1)])
        let arms = (0..<16).map { split.assign(unit: "user-\($0)").arm }
        #expect(arms == Self.pinnedArms, "got \(arms)")
    }

    static let pinnedArms = [0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]

    @Test("invalid weights are refused with a reason")
    func invalidWeights() {
        #expect(throws: WeightedHashSplit.ConfigurationError.noArms) { try split([]) }
        #expect(throws: WeightedHashSplit.ConfigurationError.allWeightsZero) { try split([0, 0]) }
        #expect(throws: WeightedHashSplit.ConfigurationError.invalidWeight(arm: "arm1", weight: -1)) { try split([1, -1]) }
        #expect(throws: WeightedHashSplit.ConfigurationError.unsupportedHashVersion(2)) {
            try WeightedHashSplit(salt: "s", arms: [.init(name: "a", weight: 1)], hashVersion: 2)
        }
    }
}
