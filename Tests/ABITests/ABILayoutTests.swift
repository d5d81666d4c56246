import SwitchboardABI
import Testing

/// The v1 layout is a contract with every plugin ever built: these numbers may only grow
/// by appending fields (and bumping the minor version). `abi_layout.c` pins the same
/// numbers at compile time for C; this pins what Swift sees.
@Suite("Policy ABI v1 layout")
struct ABILayoutTests {
    @Test("struct sizes")
    func sizes() {
        #expect(MemoryLayout<sb_host_api>.size == 40)
        #expect(MemoryLayout<sb_policy_setup>.size == 48)
        #expect(MemoryLayout<sb_choose_request>.size == 48)
        #expect(MemoryLayout<sb_choice>.size == 16)
        #expect(MemoryLayout<sb_update_request>.size == 48)
        #expect(MemoryLayout<sb_policy_v1>.size == 96)
        #expect(MemoryLayout<sb_policy_library_v1>.size == 32)
    }

    @Test("field offsets")
    func offsets() {
        #expect(MemoryLayout<sb_host_api>.offset(of: \.error_new) == 16)
        #expect(MemoryLayout<sb_host_api>.offset(of: \.metric_add) == 32)
        #expect(MemoryLayout<sb_policy_setup>.offset(of: \.arm_names) == 16)
        #expect(MemoryLayout<sb_policy_setup>.offset(of: \.config_json_len) == 40)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.unit_hash) == 24)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.seed) == 32)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.time) == 40)
        #expect(MemoryLayout<sb_choice>.offset(of: \.probabilities) == 8)
        #expect(MemoryLayout<sb_update_request>.offset(of: \.reward) == 24)
        #expect(MemoryLayout<sb_update_request>.offset(of: \.propensity) == 32)
        #expect(MemoryLayout<sb_policy_v1>.offset(of: \.capabilities) == 24)
        #expect(MemoryLayout<sb_policy_v1>.offset(of: \.config_create) == 32)
        #expect(MemoryLayout<sb_policy_v1>.offset(of: \.choose) == 64)
        #expect(MemoryLayout<sb_policy_v1>.offset(of: \.update) == 72)
        #expect(MemoryLayout<sb_policy_v1>.offset(of: \.combine) == 88)
        #expect(MemoryLayout<sb_policy_library_v1>.offset(of: \.policies) == 16)
        #expect(MemoryLayout<sb_policy_library_v1>.offset(of: \.build_tag) == 24)
    }

    @Test("versions and flags")
    func constants() {
        #expect(SB_POLICY_ABI_MAJOR == 1)
        #expect(SB_POLICY_ABI_MINOR == 1)
        #expect(SB_POLICY_CAP_CONTEXTUAL == 1)
        #expect(SB_POLICY_CAP_ENSEMBLE == 2)
        #expect(SB_POLICY_CAP_THREAD_SAFE == 4)
        #expect(SB_POLICY_CAP_COSTLY_PROBABILITIES == 8)
        #expect(SB_POLICY_CAP_UNIT_DETERMINISTIC == 16)
    }
}
