import Foundation
import Logging
import PluginHost

/// Loads the policies a process starts with: the built-in library (from a trusted path
/// beside the executable) and every library registered earlier on any replica.
public enum PolicyBootstrap {
    /// The built-in library's file name, as SwiftPM builds it.
    public static let builtInFileName = "libSwitchboardPolicies.so"

    /// `SWITCHBOARD_BUILTIN_POLICIES`, or the library beside the running executable.
    public static func builtInLibraryPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["SWITCHBOARD_BUILTIN_POLICIES"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent(builtInFileName).path
    }

    /// Loads the built-in library (a failure is fatal: experiments without a policy need
    /// it) and then the registered ones (a failure is logged: the file may be gone), except
    /// those in `quarantine` (SHA-256 → why: they crashed a server), whose policies are
    /// marked switched off instead.
    public static func load(into registry: PolicyRegistry, libraries: (any PolicyLibraryRepository)?, quarantine: [String: String] = [:],
                            logger: Logger) async throws {
        let path = builtInLibraryPath()
        do {
            try registry.loadTrusted(path: path)
        } catch {
            throw ServiceError.pluginRefused("the built-in policies could not be loaded: \(error)")
        }
        guard let libraries else { return }
        for library in try await libraries.all() {
            if let reason = quarantine[library.sha256] {
                registry.quarantine(library.policies, reason: reason)
                logger.error("a registered policy library is switched off after a crash; not loaded",
                             metadata: ["path": "\(library.path)", "reason": "\(reason)"])
                continue
            }
            do {
                try registry.register(path: library.path, expectedSHA256: library.sha256)
            } catch {
                logger.error("a registered policy library could not be loaded", metadata: ["path": "\(library.path)", "error": "\(error)"])
            }
        }
    }
}
