/// The tag a Swift plugin carries and the host compares with its own: the Linux Swift
/// runtime is not ABI-stable across compiler releases, so a Swift plugin must be built by
/// the same toolchain (major.minor) for the same platform as the host.
public enum SwiftBuildTag {
    /// e.g. `swift-6.3-x86_64-linux`.
    public static let current: String = "swift-\(compilerVersion)-\(architecture)-\(os)"

    static var compilerVersion: String {
        #if compiler(>=7.0)
        "7.x"
        #elseif compiler(>=6.5)
        "6.5"
        #elseif compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "older"
        #endif
    }

    static var architecture: String {
        #if arch(x86_64)
        "x86_64"
        #elseif arch(arm64)
        "arm64"
        #else
        "other"
        #endif
    }

    static var os: String {
        #if os(Linux)
        "linux"
        #elseif os(macOS)
        "macos"
        #else
        "other"
        #endif
    }
}
