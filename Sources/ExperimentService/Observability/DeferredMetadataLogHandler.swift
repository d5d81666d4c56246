import Logging

/// swift-log's `StreamLogHandler`, with metadata formatted when something is logged
/// instead of each time it is set. Hummingbird gives every request's logger a request id,
/// and `StreamLogHandler` formats all of its metadata on every change: about 1 µs of CPU
/// per request (`perf`, bench/README.md), for log lines that are mostly never written.
public struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler

    /// Kept here and handed to `stream` with each event.
    public var metadata: Logger.Metadata = [:]

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public init(_ stream: StreamLogHandler) {
        self.stream = stream
    }

    /// A handler writing to standard error, for `LoggingSystem.bootstrap`.
    public static func standardError(label: String) -> DeferredMetadataLogHandler {
        DeferredMetadataLogHandler(StreamLogHandler.standardError(label: label))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        stream.log(event: event)
    }
}
