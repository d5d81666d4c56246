import Foundation
import SwitchboardABI
#if canImport(Glibc)
import Glibc
#endif

/// Why a backend library was refused. Each case names the file and what is wrong with it.
public struct BackendLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Loads one model-backend library with `dlopen` and checks it against the backend ABI
/// (major version 2): the entry symbol, the build tag, struct sizes, ABI versions, names, required functions and
/// capability flags. Like policy libraries, a backend library is never unloaded.
public struct BackendLibraryLoader: Sendable {
    let services: PluginHostServices
    /// Where content-addressed copies go (as for policies); nil loads in place.
    let cacheFolder: String?

    public init(services: PluginHostServices, cacheFolder: String? = nil) {
        self.services = services
        self.cacheFolder = cacheFolder
    }

    /// Opens `path` (already checked to be inside a plugin folder) and returns its backends.
    public func load(path: String, expectedSHA256: String? = nil) throws(BackendLoadError) -> [BackendPlugin] {
        func refuse(_ reason: String) -> BackendLoadError { BackendLoadError(message: "backend library '\(path)' \(reason)") }
        let file: PluginFile
        do { file = try PluginFile(path: path, expectedSHA256: expectedSHA256, cacheFolder: cacheFolder) } catch {
            switch error {
            case .unreadable(let reason): throw refuse("cannot be read: \(reason)")
            case .digestMismatch(let actual): throw refuse("has SHA-256 \(actual), not the expected \(expectedSHA256?.lowercased() ?? "")")
            }
        }
        let digest = file.sha256
        guard let handle = dlopen(file.openPath, RTLD_NOW | RTLD_LOCAL) else {
            throw refuse("is not a loadable shared library: \(dlerror().map { String(cString: $0) } ?? "dlopen failed")")
        }
        guard let symbol = dlsym(handle, SB_BACKEND_ENTRY_SYMBOL) else {
            if let other = (1...9).first(where: { $0 != Int(SB_BACKEND_ABI_MAJOR) && dlsym(handle, "switchboard_backend_library_v\($0)") != nil }) {
                throw refuse("is built for backend ABI major version \(other); this host speaks version \(SB_BACKEND_ABI_MAJOR)")
            }
            throw refuse("does not export \(SB_BACKEND_ENTRY_SYMBOL); is it a Switchboard model backend?")
        }
        let entry = unsafeBitCast(symbol, to: sb_backend_library_entry.self)
        guard let library = entry(services.api) else { throw refuse("returned no library table") }
        let size = Int(UnsafeRawPointer(library).load(as: UInt32.self))
        guard size >= MemoryLayout<sb_backend_library>.size else {
            throw refuse("declares struct_size \(size) for sb_backend_library, smaller than the \(MemoryLayout<sb_backend_library>.size) bytes this host's ABI requires")
        }
        let lib = library.pointee
        guard lib.abi_major == SB_BACKEND_ABI_MAJOR else {
            throw refuse("declares backend ABI major version \(lib.abi_major); this host speaks \(SB_BACKEND_ABI_MAJOR)")
        }
        guard lib.abi_minor <= SB_BACKEND_ABI_MINOR else {
            throw refuse("needs backend ABI minor version \(lib.abi_minor), newer than this host's \(SB_BACKEND_ABI_MINOR); upgrade Switchboard")
        }
        if let tag = lib.build_tag.map({ String(cString: $0) }), tag != SwiftBuildTagBridge.host {
            throw refuse("was built by another Swift toolchain (\(tag); this host is \(SwiftBuildTagBridge.host)): rebuild it with the host's")
        }
        guard lib.backend_count >= 1, lib.backend_count <= 256, let list = lib.backends else { throw refuse("declares no backends") }
        var plugins: [BackendPlugin] = []
        for i in 0..<Int(lib.backend_count) {
            guard let table = list[i] else { throw refuse("has a NULL backend table") }
            let plugin = try check(table, path: path, digest: digest, refuse: refuse)
            guard !plugins.contains(where: { $0.id == plugin.id }) else { throw refuse("declares \(plugin.id) twice") }
            plugins.append(plugin)
        }
        return plugins
    }

    private func check(_ table: UnsafePointer<sb_backend>, path: String, digest: String,
                       refuse: (String) -> BackendLoadError) throws(BackendLoadError) -> BackendPlugin {
        let size = Int(UnsafeRawPointer(table).load(as: UInt32.self))
        guard size >= MemoryLayout<sb_backend>.size else {
            throw refuse("declares struct_size \(size) for sb_backend, smaller than the \(MemoryLayout<sb_backend>.size) bytes this host's ABI requires")
        }
        let t = table.pointee
        let name = t.name.map { String(cString: $0) } ?? ""
        guard PluginNames.isValidPolicyName(name) else { throw refuse("declares a backend named '\(name)'; names match [a-z0-9][a-z0-9_-]{0,62}") }
        let version = t.version.map { String(cString: $0) } ?? ""
        guard PluginNames.isValidVersion(version) else { throw refuse("declares backend \(name) with version '\(version)'") }
        guard t.abi_minor <= SB_BACKEND_ABI_MINOR else {
            throw refuse("needs backend ABI minor version \(t.abi_minor) for \(name), newer than this host's \(SB_BACKEND_ABI_MINOR)")
        }
        let required: [(String, Bool)] = [
            ("initialize", t.initialize != nil), ("finalize", t.finalize != nil), ("model_load", t.model_load != nil),
            ("model_unload", t.model_unload != nil), ("model_metadata", t.model_metadata != nil),
        ]
        for (function, present) in required where !present { throw refuse("lacks the required function \(function) in backend \(name)") }
        let known = UInt64(SB_BACKEND_CAP_CONCURRENT_INFER | SB_BACKEND_CAP_ASYNC_INFER | SB_BACKEND_CAP_INLINE_INFER)
        guard t.capabilities & ~known == 0 else {
            throw refuse("declares unknown capability bits 0x\(String(t.capabilities & ~known, radix: 16)) for \(name)")
        }
        let async = t.capabilities & UInt64(SB_BACKEND_CAP_ASYNC_INFER) != 0
        guard async == (t.infer_async != nil) else {
            throw refuse("backend \(name): the async capability and infer_async must go together")
        }
        guard t.infer != nil || async else { throw refuse("backend \(name) has neither infer nor infer_async") }
        return BackendPlugin(name: name, version: version, concurrentInfer: t.capabilities & UInt64(SB_BACKEND_CAP_CONCURRENT_INFER) != 0,
                             asyncInfer: async, inlineInfer: t.capabilities & UInt64(SB_BACKEND_CAP_INLINE_INFER) != 0, libraryPath: path, sha256: digest, table: table, services: services)
    }
}
