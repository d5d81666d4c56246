import Logging
import Synchronization

/// Every loaded policy, by `name@version`, shared by the whole process.
///
/// Libraries registered at run time must lie inside the configured plugin folders; the
/// built-in library is loaded from a trusted path the host chooses itself. Registering
/// the same file (same SHA-256) again returns the policies already loaded; a different
/// file that declares an existing `name@version` is refused.
public final class PolicyRegistry: Sendable {
    public let folders: PluginFolders
    public let services: PluginHostServices
    /// Where content-addressed copies of registered libraries (policies and backends) go.
    public let cacheFolder: String
    let loader: PolicyLibraryLoader
    private let state = Mutex<(policies: [String: PolicyPlugin], libraries: [String: LoadedPolicyLibrary])>(([:], [:]))

    /// - Parameters:
    ///   - folders: where run-time registrations may come from.
    ///   - cacheFolder: where content-addressed copies of registered libraries go.
    public init(folders: PluginFolders, cacheFolder: String, logger: Logger) {
        self.folders = folders
        self.cacheFolder = cacheFolder
        self.services = PluginHostServices(logger: logger)
        self.loader = PolicyLibraryLoader(services: services, cacheFolder: cacheFolder)
    }

    /// Loads a library from a path the host trusts (the built-in policies next to the executable).
    @discardableResult
    public func loadTrusted(path: String) throws(PluginLoadError) -> LoadedPolicyLibrary {
        try add(try PolicyLibraryLoader(services: services, cacheFolder: nil).load(path: path))
    }

    /// Registers a library from inside the plugin folders, optionally checking its SHA-256.
    @discardableResult
    public func register(path: String, expectedSHA256: String? = nil) throws(PluginLoadError) -> LoadedPolicyLibrary {
        let real: String
        do { real = try folders.resolve(path) } catch { throw .refusedPath(error.description) }
        return try add(try loader.load(path: real, expectedSHA256: expectedSHA256))
    }

    private func add(_ library: LoadedPolicyLibrary) throws(PluginLoadError) -> LoadedPolicyLibrary {
        try state.withLock { state throws(PluginLoadError) -> LoadedPolicyLibrary in
            if let existing = state.libraries[library.sha256] { return existing }
            for policy in library.policies {
                if let other = state.policies[policy.id] {
                    throw .duplicate(path: library.path, policy: policy.id, existingPath: other.libraryPath)
                }
            }
            for policy in library.policies { state.policies[policy.id] = policy }
            state.libraries[library.sha256] = library
            return library
        }
    }

    /// The policy `name@version`, or the highest version of `name` when `version` is nil.
    public func policy(name: String, version: String? = nil) -> PolicyPlugin? {
        state.withLock { state in
            if let version { return state.policies["\(name)@\(version)"] }
            return state.policies.values.filter { $0.name == name }.max { Self.versionLess($0.version, $1.version) }
        }
    }

    /// Every loaded policy, sorted by name and version.
    public var policies: [PolicyPlugin] {
        state.withLock { Array($0.policies.values) }.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }

    /// Compares dotted versions numerically where both parts are numbers ("1.10" > "1.9").
    static func versionLess(_ a: String, _ b: String) -> Bool {
        let pa = a.split(separator: "."), pb = b.split(separator: ".")
        for (x, y) in zip(pa, pb) where x != y {
            if let nx = Int(x), let ny = Int(y) { return nx < ny }
            return x < y
        }
        return pa.count < pb.count
    }
}
