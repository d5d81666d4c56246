/// Why the embedded PostgreSQL or Redis could not be started or stopped. The message is
/// one line that says what to do.
public struct EmbeddedStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
