import CLibPQ
import Foundation

/// One libpq connection. Blocking: use it only through a ``BlockingConnectionPool``
/// (one thread at a time). It connects on first use and again after the connection
/// breaks, so a restarted PostgreSQL is picked up without restarting the service.
package final class PostgresConnection: BlockingConnection, @unchecked Sendable {
    private let url: String
    private let connectTimeoutSeconds: Int
    private var conn: OpaquePointer?

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

    /// Runs `sql`, a simple-query string whose last statement is `COPY ... FROM STDIN
    /// (FORMAT binary)`, sends `data` (a whole COPY stream, see ``PostgresBinaryCopy``) as
    /// its input, and returns the rows of the statements before it. The statements of one
    /// string run in one transaction unless they control it themselves, so a prelude such
    /// as `SELECT pg_current_xact_id()` commits with the rows (one round trip for the
    /// statements, one for the data).
    @discardableResult
    package func copyIn(_ sql: String, data: [UInt8]) throws(StoreError) -> [PostgresRows] {
        try copyIn(sql, streams: [data])
    }

    /// Runs `sql`, one or more statements, sending `streams[i]` to its i-th `COPY ... FROM STDIN`.
    package func copyIn(_ sql: String, streams: [[UInt8]]) throws(StoreError) -> [PostgresRows] {
        let conn = try connected()
        guard PQsendQuery(conn, sql) == 1 else {
            let message = Self.trimmed(PQerrorMessage(conn))
            close()
            throw StoreError(.unavailable, store: .postgres, message: message)
        }
        var rows: [PostgresRows] = []
        var first: (error: StoreError, broken: Bool)?
        var next = streams.makeIterator()
        // Every result is read, even after a failure, so the connection is ready for the next statement.
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COPY_IN {
                if !Self.send(next.next() ?? [], conn) || PQputCopyEnd(conn, nil) != 1, first == nil {
                    first = (StoreError(.unavailable, store: .postgres, message: Self.trimmed(PQerrorMessage(conn))), true)
                }
            } else if let failure = failure(result) {
                if first == nil { first = failure }
            } else {
                rows.append(PostgresRows(result))
            }
        }
        if let first { throw settle(first) }
        return rows
    }

    /// Sends a COPY stream in pieces of at most 1 MiB (`PQputCopyData` takes an `Int32` length).
    private static func send(_ data: [UInt8], _ conn: OpaquePointer) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let length = min(1 << 20, raw.count - offset)
                let piece = raw.baseAddress.map { ($0 + offset).assumingMemoryBound(to: CChar.self) }
                guard PQputCopyData(conn, piece, Int32(length)) == 1 else { return false }
                offset += length
            }
            return true
        }
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
        if let failure = failure(result) { throw settle(failure) }
        return PostgresRows(result)
    }

    /// The error a result reports, if it is not a success; whether it broke the connection.
    private func failure(_ result: OpaquePointer) -> (error: StoreError, broken: Bool)? {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return nil
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.trimmed(PQresultErrorMessage(result))
            let broken = (conn.map { PQstatus($0) != CONNECTION_OK } ?? true)
                || (sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false)
            return (StoreError(broken ? .unavailable : .serverError, store: .postgres, message: message, sqlState: sqlState), broken)
        }
    }

    /// Closes the connection if the failure broke it (the next use reconnects); returns the error.
    private func settle(_ failure: (error: StoreError, broken: Bool)) -> StoreError {
        if failure.broken { close() }
        return failure.error
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
