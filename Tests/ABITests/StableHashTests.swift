import PluginSupport
import Testing

@Suite("StableHash version 1")
struct StableHashTests {
    @Test("version 1 values never change (they decide which variant every user sees)")
    func pinnedValues() {
        // Recorded once from this implementation; a change here reshuffles every running experiment.
        #expect(StableHash.fnv1a("".utf8) == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.unitHash(salt: "salt", unit: "user-42") == StableHash.unitHash(salt: "salt", unit: "user-42"))
        #expect(StableHash.unitHash(salt: "s1", unit: "user-42") == 0xba78_9217_4572_1508)
    }

    @Test("the separator keeps (salt, unit) pairs with the same concatenation apart")
    func separator() {
        #expect(StableHash.unitHash(salt: "ab", unit: "c") != StableHash.unitHash(salt: "a", unit: "bc"))
    }

    @Test("unitInterval stays strictly inside (0, 1)")
    func unitInterval() {
        #expect(StableHash.unitInterval(0) > 0)
        #expect(StableHash.unitInterval(.max) < 1)
    }
}
