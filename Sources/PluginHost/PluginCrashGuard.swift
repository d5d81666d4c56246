import CCrashGuard
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Notes which plugin library brought the process down, so the next start can leave it
/// out instead of crashing again on the same traffic.
///
/// ``install(marker:pluginFolder:)`` sets handlers for the fatal signals (in C,
/// `crash_guard.c`: async-signal-safe). On a crash the handler finds the first stack frame
/// inside a library loaded from `pluginFolder` (the content-addressed copies of registered
/// plugins), writes that library's path and the signal to the marker file, then lets the
/// signal act as before (Swift's crash report, the end of the process). Nothing runs on
/// the hot path.
public enum PluginCrashGuard {
    /// A crash that a plugin library caused.
    public struct Crash: Sendable, Equatable {
        /// The library file (a content-addressed copy under the plugin folder).
        public var library: String
        public var signal: Int32

        /// The signal's name, e.g. "Segmentation fault".
        public var signalName: String { strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)" }
    }

    /// Reads and removes the marker a crash left (nil if the last run did not crash in a plugin).
    public static func takeCrash(marker: String) -> Crash? {
        defer { unlink(marker) }
        guard let text = try? String(contentsOfFile: marker, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, let signal = Int32(lines[1]) else { return nil }
        return Crash(library: String(lines[0]), signal: signal)
    }

    /// Installs the handlers (once per process).
    public static func install(marker: String, pluginFolder: String) throws {
        let folder = URL(fileURLWithPath: pluginFolder).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard sb_crash_guard_install(marker, folder) == 0 else {
            throw PluginLoadError.checkFailed("cannot install the plugin crash guard at \(marker): \(String(cString: strerror(errno)))")
        }
    }

    /// Makes the kernel kill this process when its parent exits (a check child must never
    /// outlive the server that started it, even one that hangs in a plugin).
    public static func exitWithParent() {
        _ = sb_exit_with_parent()
    }
}
