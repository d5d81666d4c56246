import Policies
import PluginSupport
import SwitchboardABI
#if canImport(Glibc)
import Glibc
#endif

/// The constant tables of the built-in policy library. Built once, never freed (the
/// library is never unloaded).
enum PolicyLibrary {
    typealias Create = @convention(c) (UnsafePointer<sb_host_api>?, UnsafePointer<sb_policy_setup>?,
                                       UnsafeMutablePointer<OpaquePointer?>?) -> OpaquePointer?

    /// One table. `create` must be a non-capturing closure naming the concrete type.
    static func table<P: Policy>(_ type: P.Type, _ create: Create) -> UnsafePointer<sb_policy> {
        let ensemble = P.capabilities.contains(.ensemble)
        let table = UnsafeMutablePointer<sb_policy>.allocate(capacity: 1)
        table.initialize(to: sb_policy(
            struct_size: UInt32(MemoryLayout<sb_policy>.size),
            abi_minor: UInt32(SB_POLICY_ABI_MINOR),
            name: UnsafePointer(strdup(P.name)),
            version: UnsafePointer(strdup(P.version)),
            capabilities: P.capabilities.rawValue,
            config_create: create,
            config_destroy: PolicyThunks.destroy,
            state_length: PolicyThunks.stateLength,
            state_init: PolicyThunks.stateInit,
            choose: PolicyThunks.choose,
            update: PolicyThunks.update,
            choose_set: ensemble ? PolicyThunks.chooseSet : nil,
            combine: ensemble ? PolicyThunks.combine : nil
        ))
        return UnsafePointer(table)
    }

    nonisolated(unsafe) static let library: UnsafePointer<sb_policy_library> = {
        let tables: [UnsafePointer<sb_policy>] = [
            table(UniformRandom.self) { PolicyThunks.create(UniformRandom.self, ensemble: false, $0, $1, $2) },
            table(WeightedSplit.self) { PolicyThunks.create(WeightedSplit.self, ensemble: false, $0, $1, $2) },
            table(EpsilonGreedy.self) { PolicyThunks.create(EpsilonGreedy.self, ensemble: false, $0, $1, $2) },
            table(UCB1.self) { PolicyThunks.create(UCB1.self, ensemble: false, $0, $1, $2) },
            table(ThompsonBernoulli.self) { PolicyThunks.create(ThompsonBernoulli.self, ensemble: false, $0, $1, $2) },
            table(ThompsonGaussian.self) { PolicyThunks.create(ThompsonGaussian.self, ensemble: false, $0, $1, $2) },
            table(Softmax.self) { PolicyThunks.create(Softmax.self, ensemble: false, $0, $1, $2) },
            table(Exp3.self) { PolicyThunks.create(Exp3.self, ensemble: false, $0, $1, $2) },
            table(DiscountedThompson.self) { PolicyThunks.create(DiscountedThompson.self, ensemble: false, $0, $1, $2) },
            table(LinUCB.self) { PolicyThunks.create(LinUCB.self, ensemble: false, $0, $1, $2) },
            table(ThompsonEnsemble.self) { PolicyThunks.create(ThompsonEnsemble.self, ensemble: true, $0, $1, $2) },
        ]
        let list = UnsafeMutablePointer<UnsafePointer<sb_policy>?>.allocate(capacity: tables.count)
        for (i, t) in tables.enumerated() { list[i] = t }
        let library = UnsafeMutablePointer<sb_policy_library>.allocate(capacity: 1)
        library.initialize(to: sb_policy_library(
            struct_size: UInt32(MemoryLayout<sb_policy_library>.size),
            abi_major: UInt32(SB_POLICY_ABI_MAJOR),
            abi_minor: UInt32(SB_POLICY_ABI_MINOR),
            policy_count: UInt32(tables.count),
            policies: UnsafePointer(list),
            build_tag: UnsafePointer(strdup(SwiftBuildTag.current))
        ))
        return UnsafePointer(library)
    }()
}

/// The entry point of the built-in policy library (the only exported symbol).
@_cdecl("switchboard_policy_library_v2")
public func switchboardPolicyLibraryV2(_ host: UnsafePointer<sb_host_api>?) -> UnsafePointer<sb_policy_library>? {
    guard let host, host.pointee.struct_size >= UInt32(MemoryLayout<sb_host_api>.size), host.pointee.error_new != nil else {
        return nil
    }
    return PolicyLibrary.library
}
