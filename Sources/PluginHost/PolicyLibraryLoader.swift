import Foundation
import SwitchboardABI
#if canImport(Glibc)
import Glibc
#endif

/// A policy library that passed every check.
public struct LoadedPolicyLibrary: Sendable {
    /// The file it was loaded from (as registered, resolved).
    public let path: String
    /// SHA-256 of the file, lowercase hex.
    public let sha256: String
    public let policies: [PolicyPlugin]
}

/// Loads one policy library with `dlopen` and checks it against the policy ABI (major version 2): the entry symbol,
/// struct sizes, ABI versions, the build tag, names, required functions and capability
/// flags. A library is never unloaded (Swift code must not be `dlclose`d, and callers may
/// hold its tables), so a library that fails a check after `dlopen` stays mapped but unused.
public struct PolicyLibraryLoader: Sendable {
    let services: PluginHostServices
    /// Where content-addressed copies go (`<stem>-<sha256 prefix>.so`); nil loads in place.
    let cacheFolder: String?

    public init(services: PluginHostServices, cacheFolder: String?) {
        self.services = services
        self.cacheFolder = cacheFolder
    }

    /// Reads, digests, copies and opens `path`, then checks what its entry point returns.
    public func load(path: String, expectedSHA256: String? = nil) throws(PluginLoadError) -> LoadedPolicyLibrary {
        let file: PluginFile
        do { file = try PluginFile(path: path, expectedSHA256: expectedSHA256, cacheFolder: cacheFolder) } catch {
            switch error {
            case .unreadable(let reason): throw .unreadable(path: path, reason: reason)
            case .digestMismatch(let actual): throw .digestMismatch(path: path, expected: expectedSHA256?.lowercased() ?? "", actual: actual)
            }
        }
        let digest = file.sha256, openPath = file.openPath
        guard let handle = dlopen(openPath, RTLD_NOW | RTLD_LOCAL) else {
            throw .notASharedLibrary(path: path, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        guard let symbol = dlsym(handle, SB_POLICY_ENTRY_SYMBOL) else {
            let other = (1...9).first { $0 != Int(SB_POLICY_ABI_MAJOR) && dlsym(handle, "switchboard_policy_library_v\($0)") != nil }
            throw .missingEntrySymbol(path: path, otherMajor: other)
        }
        let entry = unsafeBitCast(symbol, to: sb_policy_library_entry.self)
        guard let library = entry(services.api) else { throw .entryReturnedNull(path: path) }
        let policies = try check(library, path: path, digest: digest)
        return LoadedPolicyLibrary(path: path, sha256: digest, policies: policies)
    }

    private func check(_ library: UnsafePointer<sb_policy_library>, path: String, digest: String) throws(PluginLoadError) -> [PolicyPlugin] {
        // Read struct_size before any other field: a smaller struct must not be read past its end.
        let librarySize = Int(UnsafeRawPointer(library).load(as: UInt32.self))
        let librarySizeNeeded = MemoryLayout<sb_policy_library>.size
        guard librarySize >= librarySizeNeeded else {
            throw .structTooSmall(path: path, what: "sb_policy_library", size: librarySize, needed: librarySizeNeeded)
        }
        let lib = library.pointee
        guard lib.abi_major == SB_POLICY_ABI_MAJOR else {
            throw .abiMajorMismatch(path: path, plugin: Int(lib.abi_major), host: Int(SB_POLICY_ABI_MAJOR))
        }
        guard lib.abi_minor <= SB_POLICY_ABI_MINOR else {
            throw .abiMinorTooNew(path: path, what: "the library", plugin: Int(lib.abi_minor), host: Int(SB_POLICY_ABI_MINOR))
        }
        if let tag = lib.build_tag.map({ String(cString: $0) }), tag != SwiftBuildTagBridge.host {
            throw .buildTagMismatch(path: path, plugin: tag, host: SwiftBuildTagBridge.host)
        }
        guard lib.policy_count >= 1, lib.policy_count <= 1024, let list = lib.policies else { throw .noPolicies(path: path) }
        var seen = Set<String>()
        var plugins: [PolicyPlugin] = []
        for i in 0..<Int(lib.policy_count) {
            guard let table = list[i] else { throw .noPolicies(path: path) }
            let plugin = try check(table, path: path, digest: digest)
            guard seen.insert(plugin.id).inserted else { throw .duplicate(path: path, policy: plugin.id, existingPath: path) }
            plugins.append(plugin)
        }
        return plugins
    }

    private func check(_ table: UnsafePointer<sb_policy>, path: String, digest: String) throws(PluginLoadError) -> PolicyPlugin {
        let size = Int(UnsafeRawPointer(table).load(as: UInt32.self))
        guard size >= MemoryLayout<sb_policy>.size else {
            throw .structTooSmall(path: path, what: "sb_policy", size: size, needed: MemoryLayout<sb_policy>.size)
        }
        let t = table.pointee
        let name = t.name.map { String(cString: $0) } ?? ""
        guard PluginNames.isValidPolicyName(name) else { throw .invalidName(path: path, name: name) }
        let version = t.version.map { String(cString: $0) } ?? ""
        guard PluginNames.isValidVersion(version) else { throw .invalidVersion(path: path, policy: name, version: version) }
        guard t.abi_minor <= SB_POLICY_ABI_MINOR else {
            throw .abiMinorTooNew(path: path, what: "policy \(name)", plugin: Int(t.abi_minor), host: Int(SB_POLICY_ABI_MINOR))
        }
        let required: [(String, Bool)] = [
            ("config_create", t.config_create != nil), ("config_destroy", t.config_destroy != nil),
            ("state_length", t.state_length != nil), ("state_init", t.state_init != nil),
            ("choose", t.choose != nil), ("update", t.update != nil),
        ]
        for (function, present) in required where !present {
            throw .missingFunction(path: path, policy: name, function: function)
        }
        let capabilities = PolicyPluginCapabilities(rawValue: t.capabilities)
        let unknown = capabilities.subtracting(.known)
        guard unknown.isEmpty else {
            throw .capabilityMismatch(path: path, policy: name,
                                      reason: "declares unknown capability bits 0x\(String(unknown.rawValue, radix: 16)) (built for a newer ABI minor?)")
        }
        let hasEnsembleFunctions = (t.choose_set != nil, t.combine != nil)
        if capabilities.contains(.ensemble) {
            guard hasEnsembleFunctions == (true, true) else {
                throw .capabilityMismatch(path: path, policy: name, reason: "declares the ensemble capability but lacks choose_set or combine")
            }
        } else if hasEnsembleFunctions != (false, false) {
            throw .capabilityMismatch(path: path, policy: name, reason: "has choose_set or combine but does not declare the ensemble capability")
        }
        return PolicyPlugin(name: name, version: version, capabilities: capabilities, libraryPath: path, sha256: digest,
                            table: table, services: services)
    }
}

import PluginSupport

/// The host's own build tag, compared with a Swift plugin's.
enum SwiftBuildTagBridge {
    static let host = SwiftBuildTag.current
}

/// The ABI versions this host speaks, for messages.
public enum PluginABIVersion {
    /// The policy ABI, `major.minor`.
    public static let policy = "\(SB_POLICY_ABI_MAJOR).\(SB_POLICY_ABI_MINOR)"
    /// The model-backend ABI, `major.minor`.
    public static let backend = "\(SB_BACKEND_ABI_MAJOR).\(SB_BACKEND_ABI_MINOR)"
}
