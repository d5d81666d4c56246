import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts helper programs (the embedded stores' tools, plugin checks) the way the service
/// needs them started, with `posix_spawn` rather than Foundation's `Process`.
public enum HelperProcess {
    /// What a helper program gets of our environment: the search path, the locale and the
    /// time zone, nothing else (never the API keys, the store URLs or other secrets).
    public static func environment(_ ours: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        ours.filter { name, _ in ["PATH", "LANG", "LANGUAGE", "TZ"].contains(name) || name.hasPrefix("LC_") }
    }

    /// Spawns `argv[0]` with `argv` and `environment`: standard input from /dev/null,
    /// standard output and error to the given descriptors (nil: /dev/null), no other
    /// descriptor of ours, and no blocked or ignored signals whatever the calling thread has
    /// (NIO and Dispatch threads block signals, and a daemon would inherit that mask).
    /// Returns the pid, or the errno.
    ///
    /// No other descriptor: NIO's listening and accepted sockets are not close-on-exec, so
    /// a child would hold them open. A client's connection that the server closes would then
    /// stay open for as long as a plugin check or a store's daemon lives.
    public static func spawn(_ argv: [String], environment: [String: String], stdout: Int32?, stderr: Int32?) -> Result<pid_t, POSIXError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let source { posix_spawn_file_actions_adddup2(&actions, source, target) } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let status = withCStrings(argv) { args in
            withCStrings(environment.map { "\($0)=\($1)" }) { env in posix_spawn(&pid, argv[0], &actions, &attributes, args, env) }
        }
        guard status == 0 else { return .failure(POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL)) }
        return .success(pid)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Debian 12 has
    /// 2.36), looked up at run time because `spawn.h` declares it only under `_GNU_SOURCE`,
    /// which Swift's Glibc module does not define. Without it (an older C library) children
    /// inherit what is not close-on-exec.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// `strings` as a NULL-terminated C array for the duration of `body`.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { for p in pointers { free(p) } }
        pointers.append(nil)
        return body(pointers)
    }
}
