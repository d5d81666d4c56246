/// An error from PostgreSQL or Redis, with a stable code for callers and a precise
/// message for people. Mapped to an HTTP problem only at the HTTP edge.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The server cannot be reached, or the connection broke.
        public static let unavailable = Code(raw: "unavailable")
        /// The server answered with an error for this statement or command.
        public static let serverError = Code(raw: "server_error")
        /// The server's answer did not have the expected shape.
        public static let unexpectedReply = Code(raw: "unexpected_reply")
        /// A conditional write found the row changed by another writer.
        public static let conflict = Code(raw: "conflict")
        public var description: String { raw }
    }

    /// Which store failed.
    public enum Store: String, Sendable {
        case postgres = "PostgreSQL"
        case redis = "Redis"
    }

    public let code: Code
    public let store: Store
    /// The store's own message (libpq's or hiredis's).
    public let message: String
    /// The PostgreSQL SQLSTATE, when the server sent one.
    public let sqlState: String?

    public init(_ code: Code, store: Store, message: String, sqlState: String? = nil) {
        self.code = code
        self.store = store
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        "\(store.rawValue) \(code): \(message)\(sqlState.map { " (SQLSTATE \($0))" } ?? "")"
    }
}
