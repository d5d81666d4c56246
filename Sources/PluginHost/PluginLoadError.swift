import SwitchboardABI

/// Why a plugin library was refused. Each case names the file and what is wrong with it.
public enum PluginLoadError: Error, Equatable, CustomStringConvertible {
    case refusedPath(String)
    case unreadable(path: String, reason: String)
    case digestMismatch(path: String, expected: String, actual: String)
    case notASharedLibrary(path: String, reason: String)
    case missingEntrySymbol(path: String, otherMajor: Int?)
    case entryReturnedNull(path: String)
    case structTooSmall(path: String, what: String, size: Int, needed: Int)
    case abiMajorMismatch(path: String, plugin: Int, host: Int)
    case abiMinorTooNew(path: String, what: String, plugin: Int, host: Int)
    case buildTagMismatch(path: String, plugin: String, host: String)
    case noPolicies(path: String)
    case invalidName(path: String, name: String)
    case invalidVersion(path: String, policy: String, version: String)
    case missingFunction(path: String, policy: String, function: String)
    case capabilityMismatch(path: String, policy: String, reason: String)
    case duplicate(path: String, policy: String, existingPath: String)
    /// The conformance check in a child process failed, crashed or hung.
    case checkFailed(String)

    public var description: String {
        switch self {
        case .refusedPath(let reason): reason
        case .unreadable(let path, let reason): "cannot read plugin '\(path)': \(reason)"
        case .digestMismatch(let path, let expected, let actual):
            "plugin '\(path)' has SHA-256 \(actual), not the expected \(expected)"
        case .notASharedLibrary(let path, let reason): "'\(path)' is not a loadable shared library: \(reason)"
        case .missingEntrySymbol(let path, let other):
            if let other {
                "plugin '\(path)' is built for policy ABI major version \(other) (it exports switchboard_policy_library_v\(other)); this host speaks version \(SB_POLICY_ABI_MAJOR)"
            } else {
                "plugin '\(path)' does not export switchboard_policy_library_v2; is it a Switchboard policy plugin?"
            }
        case .entryReturnedNull(let path): "plugin '\(path)' refused to start: its entry point returned NULL (see the log for its reason)"
        case .structTooSmall(let path, let what, let size, let needed):
            "plugin '\(path)': \(what) declares struct_size \(size), smaller than the \(needed) bytes this host's ABI requires"
        case .abiMajorMismatch(let path, let plugin, let host):
            "plugin '\(path)' declares policy ABI major version \(plugin); this host speaks \(host)"
        case .abiMinorTooNew(let path, let what, let plugin, let host):
            "plugin '\(path)': \(what) needs policy ABI minor version \(plugin), newer than this host's \(host); upgrade Switchboard"
        case .buildTagMismatch(let path, let plugin, let host):
            "plugin '\(path)' was built by \(plugin) but this host is \(host); Swift plugins must be built by the host's toolchain"
        case .noPolicies(let path): "plugin '\(path)' lists no policies"
        case .invalidName(let path, let name): "plugin '\(path)' declares the invalid policy name '\(name)' (allowed: [a-z0-9][a-z0-9_-]{0,62})"
        case .invalidVersion(let path, let policy, let version):
            "plugin '\(path)': policy '\(policy)' declares the invalid version '\(version)' (allowed: [A-Za-z0-9][A-Za-z0-9._-]{0,62})"
        case .missingFunction(let path, let policy, let function): "plugin '\(path)': policy '\(policy)' has no \(function) function"
        case .capabilityMismatch(let path, let policy, let reason): "plugin '\(path)': policy '\(policy)' \(reason)"
        case .duplicate(let path, let policy, let existingPath):
            "plugin '\(path)': policy \(policy) is already registered (from '\(existingPath)')"
        case .checkFailed(let reason): reason
        }
    }
}
