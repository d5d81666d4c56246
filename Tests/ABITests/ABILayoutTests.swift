import SwitchboardABI
import Testing

/// The layouts are a contract with every plugin built against a major version: these
/// numbers may only grow by appending fields (and bumping the minor version).
/// `abi_layout.c` pins the same numbers at compile time for C; this pins what Swift sees.
@Suite("ABI layouts: policy 2, backend 2, host services")
struct ABILayoutTests {
    @Test("struct sizes")
    func sizes() {
        #expect(MemoryLayout<sb_host_api>.size == 40)
        #expect(MemoryLayout<sb_policy_setup>.size == 40)
        #expect(MemoryLayout<sb_choose_request>.size == 48)
        #expect(MemoryLayout<sb_choice>.size == 16)
        #expect(MemoryLayout<sb_update_request>.size == 48)
        #expect(MemoryLayout<sb_policy>.size == 96)
        #expect(MemoryLayout<sb_policy_library>.size == 32)
        #expect(MemoryLayout<sb_tensor_desc>.size == 80)
        #expect(MemoryLayout<sb_tensor>.size == 96)
        #expect(MemoryLayout<sb_completion>.size == 16)
        #expect(MemoryLayout<sb_backend>.size == 88)
        #expect(MemoryLayout<sb_backend_library>.size == 32)
    }

    @Test("field offsets")
    func offsets() {
        #expect(MemoryLayout<sb_host_api>.offset(of: \.error_new) == 16)
        #expect(MemoryLayout<sb_host_api>.offset(of: \.metric_add) == 32)
        #expect(MemoryLayout<sb_policy_setup>.offset(of: \.arm_names) == 16)
        #expect(MemoryLayout<sb_policy_setup>.offset(of: \.config_json) == 32)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.unit_hash) == 24)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.seed) == 32)
        #expect(MemoryLayout<sb_choose_request>.offset(of: \.time) == 40)
        #expect(MemoryLayout<sb_choice>.offset(of: \.probabilities) == 8)
        #expect(MemoryLayout<sb_update_request>.offset(of: \.reward) == 24)
        #expect(MemoryLayout<sb_update_request>.offset(of: \.propensity) == 32)
        #expect(MemoryLayout<sb_policy>.offset(of: \.capabilities) == 24)
        #expect(MemoryLayout<sb_policy>.offset(of: \.config_create) == 32)
        #expect(MemoryLayout<sb_policy>.offset(of: \.choose) == 64)
        #expect(MemoryLayout<sb_policy>.offset(of: \.update) == 72)
        #expect(MemoryLayout<sb_policy>.offset(of: \.combine) == 88)
        #expect(MemoryLayout<sb_policy_library>.offset(of: \.policies) == 16)
        #expect(MemoryLayout<sb_policy_library>.offset(of: \.build_tag) == 24)
        #expect(MemoryLayout<sb_completion>.offset(of: \.context) == 8)
        #expect(MemoryLayout<sb_backend>.offset(of: \.infer_async) == 80)
        #expect(MemoryLayout<sb_backend_library>.offset(of: \.backends) == 16)
        #expect(MemoryLayout<sb_backend_library>.offset(of: \.build_tag) == 24)
    }

    @Test("versions, flags and error codes")
    func constants() {
        #expect(SB_POLICY_ABI_MAJOR == 2 && SB_POLICY_ABI_MINOR == 0)
        #expect(SB_BACKEND_ABI_MAJOR == 2 && SB_BACKEND_ABI_MINOR == 0)
        #expect(SB_HOST_API_MINOR == 0)
        #expect(SB_POLICY_CAP_CONTEXTUAL == 1)
        #expect(SB_POLICY_CAP_ENSEMBLE == 2)
        #expect(SB_POLICY_CAP_THREAD_SAFE == 4)
        #expect(SB_POLICY_CAP_COSTLY_PROBABILITIES == 8)
        #expect(SB_POLICY_CAP_UNIT_DETERMINISTIC == 16)
        // Append-only: a code keeps its number forever.
        #expect([SB_ERROR_INVALID_CONFIG, SB_ERROR_INVALID_ARGUMENT, SB_ERROR_NUMERIC, SB_ERROR_INTERNAL, SB_ERROR_UNAVAILABLE].map(\.rawValue)
                == [1, 2, 3, 4, 5])
    }
}
