@testable import ExperimentService
import Foundation
import TestSupport
import Testing

@Suite("Decision ids and the random words behind them")
struct DecisionIDTests {
    @Test("a decision id is a UUIDv7 carrying its millisecond, and ids made in order sort in order")
    func uuidV7() {
        let now = Date(timeIntervalSince1970: 1_790_000_000.123)
        let id = DecisionID.make(now: now)
        let bytes = id.uuid
        #expect(bytes.6 >> 4 == 7)
        #expect(bytes.8 >> 6 == 0b10)
        #expect(DecisionID.timestamp(of: id) == Date(timeIntervalSince1970: 1_790_000_000.123))
        let later = DecisionID.make(now: now.addingTimeInterval(0.001))
        #expect(id.uuidString < later.uuidString)
    }

    @Test("an id's text is the lowercase canonical form")
    func text() {
        for id in [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                   UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
                + (0..<1_000).map({ _ in UUID() }) + (0..<1_000).map({ _ in DecisionID.make() }) {
            #expect(DecisionID.text(id) == id.uuidString.lowercased())
        }
    }

    @Test("random words cross many refills without repeating, and their bits are balanced")
    func randomWords() {
        let count = 20_000   // about 39 refills of the 512-word pool
        let words = (0..<count).map { _ in RandomWords.next() }
        #expect(Set(words).count == count)
        let ones = words.reduce(0) { $0 + $1.nonzeroBitCount }
        let share = Double(ones) / Double(count * 64)
        // 1.28 million fair bits: the share's standard deviation is 0.00044, so ±0.01 is 22 σ.
        #expect(abs(share - 0.5) < 0.01, "share of one bits: \(share)")
        let ids = (0..<count).map { _ in DecisionID.make() }
        #expect(Set(ids).count == count)
    }
}
