import CLibPQ
import Foundation

/// One libpq connection. Blocking: use it only through a ``BlockingConnectionPool``
/// (one thread at a time). It connects on first use and again after the connection
/// breaks, so a restarted PostgreSQL is picked up without restarting the service.
package final class PostgresConnection: BlockingConnection, @unchecked Sendable {
    private let url: String
    private let connectTimeoutSeconds: Int
    private var conn: OpaquePointer?
    /// Statements prepared on this connection (by their text), so hot statements are parsed
    /// and planned once per connection.
    private var prepared: [String: String] = [:]

    /// - Parameters:
    ///   - url: a libpq connection string or `postgresql://` URL.
    ///   - connectTimeoutSeconds: used unless the URL sets its own `connect_timeout`.
    package init(url: String, connectTimeoutSeconds: Int = 3) {
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    deinit { close() }

    package func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        prepared = [:]
    }

    /// Runs one parameterised statement (text parameters, `$1`, `$2`, ...) and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ parameters: [String?] = []) throws(StoreError) -> PostgresRows {
        let conn = try connected()
        let result = withCStringArray(parameters) { values in
            PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try check(result)
    }

    /// Like ``query(_:_:)`` for a statement run often: prepared once per connection
    /// (`PQprepare`), then executed with `PQexecPrepared`.
    @discardableResult
    package func queryPrepared(_ sql: String, _ parameters: [String?] = []) throws(StoreError) -> PostgresRows {
        let conn = try connected()
        let name = try prepare(sql, conn, parameterCount: parameters.count)
        let result = withCStringArray(parameters) { values in
            PQexecPrepared(conn, name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try check(result)
    }

    /// Like ``queryPrepared(_:_:)`` with every parameter in PostgreSQL's binary format
    /// (see ``PostgresBinaryArray``); results still come back as text.
    @discardableResult
    package func queryPrepared(_ sql: String, binary parameters: [[UInt8]]) throws(StoreError) -> PostgresRows {
        let conn = try connected()
        let name = try prepare(sql, conn, parameterCount: parameters.count)
        let lengths = parameters.map { Int32($0.count) }
        let formats = [Int32](repeating: 1, count: parameters.count)
        let result = withBinaryPointers(parameters) { values in
            PQexecPrepared(conn, name, Int32(parameters.count), values, lengths, formats, 0)
        }
        return try check(result)
    }

    private func prepare(_ sql: String, _ conn: OpaquePointer, parameterCount: Int) throws(StoreError) -> String {
        if let existing = prepared[sql] { return existing }
        let name = "sb_\(prepared.count)"
        try check(PQprepare(conn, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// Runs a script of one or more statements with no parameters (migrations).
    package func execute(script: String) throws(StoreError) {
        let conn = try connected()
        try check(PQexec(conn, script))
    }

    /// Runs `body` inside `begin` (`BEGIN` by default) ... `COMMIT`, rolling back if it throws.
    package func transaction<T>(begin: String = "BEGIN", _ body: (PostgresConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        try query(begin)
        do {
            let value = try body(self)
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    private func connected() throws(StoreError) -> OpaquePointer {
        if let conn, PQstatus(conn) == CONNECTION_OK { return conn }
        close()
        let keywords = ["connect_timeout", "dbname"]
        let values = [String(connectTimeoutSeconds), url]
        let newConn = withCStringArray(keywords) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let newConn else {
            throw StoreError(.unavailable, store: .postgres, message: "libpq could not allocate a connection")
        }
        guard PQstatus(newConn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(newConn))
            PQfinish(newConn)
            throw StoreError(.unavailable, store: .postgres, message: message)
        }
        PQsetNoticeProcessor(newConn, { _, _ in }, nil)  // NOTICEs (e.g. "already exists, skipping") are not errors
        conn = newConn
        return newConn
    }

    @discardableResult
    private func check(_ result: OpaquePointer?) throws(StoreError) -> PostgresRows {
        guard let result else {
            let message = conn.map { Self.trimmed(PQerrorMessage($0)) } ?? "no connection"
            close()
            throw StoreError(.unavailable, store: .postgres, message: message)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(result)
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.trimmed(PQresultErrorMessage(result))
            if let conn, PQstatus(conn) != CONNECTION_OK {
                close()
                throw StoreError(.unavailable, store: .postgres, message: message, sqlState: sqlState)
            }
            if let sqlState, sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") {
                close()
                throw StoreError(.unavailable, store: .postgres, message: message, sqlState: sqlState)
            }
            throw StoreError(.serverError, store: .postgres, message: message, sqlState: sqlState)
        }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        let text = String(cString: message)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// The rows of a result, copied out of libpq as text (NULL is `nil`).
package struct PostgresRows: Sendable {
    package let columns: [String]
    package let rows: [[String?]]

    init(_ result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        rows = (0..<rowCount).map { r in
            (0..<columnCount).map { c in
                PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
            }
        }
    }

    package var count: Int { rows.count }
}

/// Calls `body` with a C array of C strings (NULL for `nil`) that lives for the call.
func withCStringArray<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for p in pointers { free(p) } }
    pointers.append(nil)
    return body(pointers.map { $0.map { UnsafePointer($0) } })
}

/// Calls `body` with a C array of pointers to each byte array (valid during the call).
func withBinaryPointers<R>(_ arrays: [[UInt8]], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    func nest(_ i: Int, _ pointers: inout [UnsafePointer<CChar>?]) -> R {
        if i == arrays.count { return body(pointers) }
        return arrays[i].withUnsafeBytes { raw in
            pointers.append(raw.baseAddress?.assumingMemoryBound(to: CChar.self))
            return nest(i + 1, &pointers)
        }
    }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(arrays.count)
    return nest(0, &pointers)
}
