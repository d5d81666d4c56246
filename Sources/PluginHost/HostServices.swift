import Logging
import Synchronization
import SwitchboardABI

/// The services the host offers plugins (`sb_host_api`): host-allocated errors, logging
/// and plugin-defined counters. One instance lives for the life of the process; its C
/// table is passed to every plugin entry point.
public final class PluginHostServices: Sendable {
    let logger: Logger
    private let counters = Mutex<[String: Double]>([:])
    /// The C table; allocated once and never freed (plugins may keep the pointer).
    nonisolated(unsafe) let api: UnsafeMutablePointer<sb_host_api>

    public init(logger: Logger) {
        self.logger = logger
        api = .allocate(capacity: 1)
        api.initialize(to: sb_host_api(
            struct_size: UInt32(MemoryLayout<sb_host_api>.size),
            abi_minor: UInt32(SB_HOST_API_MINOR),
            host_context: nil,
            error_new: PluginHostServices.errorNew,
            log: PluginHostServices.log,
            metric_add: PluginHostServices.metricAdd
        ))
        // The context keeps this object alive for the life of the process, like the table.
        api.pointee.host_context = OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }

    /// The plugin-defined counters reported so far (name → total).
    public func pluginCounters() -> [String: Double] {
        counters.withLock { $0 }
    }

    /// Turns an `sb_error *` returned by a plugin into a Swift error and frees it.
    static func take(_ error: OpaquePointer?) -> PluginReportedError? {
        guard let error else { return nil }
        return Unmanaged<PluginReportedError.Box>.fromOpaque(UnsafeRawPointer(error)).takeRetainedValue().error
    }

    private static func services(_ context: OpaquePointer?) -> PluginHostServices? {
        context.map { Unmanaged<PluginHostServices>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    private static let errorNew: @convention(c) (OpaquePointer?, sb_error_code, UnsafePointer<CChar>?) -> OpaquePointer? = { _, code, message in
        let error = PluginReportedError(code: Int32(truncatingIfNeeded: code.rawValue), message: message.map { String(cString: $0) } ?? "(no message)")
        return OpaquePointer(Unmanaged.passRetained(PluginReportedError.Box(error)).toOpaque())
    }

    private static let log: @convention(c) (OpaquePointer?, sb_log_level, UnsafePointer<CChar>?) -> Void = { context, level, message in
        guard let services = services(context), let message else { return }
        let text = String(cString: message)
        switch level {
        case SB_LOG_DEBUG: services.logger.debug("\(text)", metadata: ["source": "plugin"])
        case SB_LOG_INFO: services.logger.info("\(text)", metadata: ["source": "plugin"])
        case SB_LOG_WARNING: services.logger.warning("\(text)", metadata: ["source": "plugin"])
        default: services.logger.error("\(text)", metadata: ["source": "plugin"])
        }
    }

    private static let metricAdd: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Double) -> Void = { context, name, value in
        guard let services = services(context), let name, value.isFinite else { return }
        let key = String(cString: name)
        guard PluginNames.isValidMetricName(key) else {
            services.logger.warning("plugin reported a metric with an invalid name", metadata: ["name": "\(key)"])
            return
        }
        // Label values come from plugins: at most `maxMetricNames` distinct ones, so a plugin
        // cannot grow the metrics page (and Prometheus's series) without bound.
        let kept = services.counters.withLock { counters -> Bool in
            guard counters[key] != nil || counters.count < maxMetricNames else { return false }
            counters[key, default: 0] += value
            return true
        }
        if !kept { services.logger.warning("plugin metric dropped: too many distinct names", metadata: ["name": "\(key)"]) }
    }

    /// The most distinct metric names the plugins of a process may report.
    public static let maxMetricNames = 64
}

/// An error a plugin returned through `sb_host_api.error_new`.
public struct PluginReportedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `SB_ERROR_*` (`sb_error_code`); a code this host does not know counts as internal.
    public var code: Int32
    public var message: String
    public var description: String { message }

    public static let invalidConfig: Int32 = 1
    public static let invalidArgument: Int32 = 2
    public static let `internal`: Int32 = 4
    /// Something the plugin needs cannot be reached now; the same call may succeed later.
    public static let unavailable: Int32 = 5

    final class Box {
        let error: PluginReportedError
        init(_ error: PluginReportedError) { self.error = error }
    }
}

/// Name rules for things plugins declare.
enum PluginNames {
    /// Policy names: `[a-z0-9][a-z0-9_-]{0,62}`.
    static func isValidPolicyName(_ s: String) -> Bool {
        matches(s, first: { isLower($0) || isDigit($0) }, rest: { isLower($0) || isDigit($0) || $0 == 0x5f || $0 == 0x2d })
    }
    /// Versions: `[A-Za-z0-9][A-Za-z0-9._-]{0,62}`.
    static func isValidVersion(_ s: String) -> Bool {
        matches(s, first: { isAlnum($0) }, rest: { isAlnum($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d })
    }
    /// Metric names: `[a-z_][a-z0-9_]{0,62}`.
    static func isValidMetricName(_ s: String) -> Bool {
        matches(s, first: { isLower($0) || $0 == 0x5f }, rest: { isLower($0) || isDigit($0) || $0 == 0x5f })
    }

    private static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7a }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isAlnum(_ b: UInt8) -> Bool { isLower(b) || isDigit(b) || (b >= 0x41 && b <= 0x5a) }
    private static func matches(_ s: String, first: (UInt8) -> Bool, rest: (UInt8) -> Bool) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...63).contains(bytes.count), first(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy(rest)
    }
}
