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
    /// Runs a library's conformance check in a child process before it is loaded here
    /// (nil only where every library is trusted: tests of loading itself, tools).
    public let checker: PluginChecker?
    let loader: PolicyLibraryLoader
    private let state = Mutex<(policies: [String: PolicyPlugin], libraries: [String: LoadedPolicyLibrary])>(([:], [:]))
    /// Policies (`name@version`) whose library crashed a server, with why: not loaded.
    private let quarantined = Mutex<[String: String]>([:])

    /// - Parameters:
    ///   - folders: where run-time registrations may come from.
    ///   - cacheFolder: where content-addressed copies of registered libraries go.
    ///   - checker: checks a library in a child process before it is registered.
    public init(folders: PluginFolders, cacheFolder: String, checker: PluginChecker? = nil, logger: Logger) {
        self.folders = folders
        self.cacheFolder = cacheFolder
        self.checker = checker
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

    /// Registers a library from inside the plugin folders after its conformance check passed
    /// in a child process (with a ``checker``): the library's code runs in this process only
    /// once it has run there without crashing or hanging, and exactly the checked bytes load.
    @discardableResult
    public func registerChecked(path: String, expectedSHA256: String? = nil) async throws(PluginLoadError) -> LoadedPolicyLibrary {
        let real: String
        do { real = try folders.resolve(path) } catch { throw .refusedPath(error.description) }
        let sha256 = try Self.digest(real, expected: expectedSHA256)
        if let checker {
            do { try await checker.check(path: real, sha256: sha256, kind: .policy) } catch { throw .checkFailed(error.message) }
        }
        return try register(path: real, expectedSHA256: sha256)
    }

    /// The SHA-256 of a plugin file, checked against `expected` if given.
    public static func digest(_ path: String, expected: String?) throws(PluginLoadError) -> String {
        do { return try PluginFile(path: path, expectedSHA256: expected, cacheFolder: nil).sha256 } catch {
            switch error {
            case .unreadable(let reason): throw .unreadable(path: path, reason: reason)
            case .digestMismatch(let actual): throw .digestMismatch(path: path, expected: expected?.lowercased() ?? "", actual: actual)
            }
        }
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

    /// Marks policies whose library is switched off (it crashed a server), with why.
    public func quarantine(_ policyIDs: [String], reason: String) {
        quarantined.withLock { for id in policyIDs { $0[id] = reason } }
    }

    /// Switches policies back on (their library was registered again).
    public func release(_ policyIDs: [String]) {
        quarantined.withLock { for id in policyIDs { $0.removeValue(forKey: id) } }
    }

    /// Why `name@version` (any version when nil) is switched off, or nil.
    public func quarantineReason(name: String, version: String?) -> (policy: String, reason: String)? {
        quarantined.withLock { q in
            q.first { id, _ in version.map { id == "\(name)@\($0)" } ?? id.hasPrefix(name + "@") }.map { ($0.key, $0.value) }
        }
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
