import NIOPosix

/// A pool of libpq connections to one PostgreSQL database.
public final class PostgresDatabase: Sendable {
    package let pool: BlockingConnectionPool<PostgresConnection>
    /// The connection URL (may contain a password: never log it).
    let url: String

    /// - Parameters:
    ///   - url: a `postgresql://` URL or libpq connection string.
    ///   - connections: how many connections to open at most.
    ///   - threadPool: the threads that run libpq's blocking calls.
    public init(url: String, connections: Int = 8, threadPool: NIOThreadPool) {
        self.url = url
        self.pool = BlockingConnectionPool(
            connections: (0..<connections).map { _ in PostgresConnection(url: url) },
            threadPool: threadPool
        )
    }

    /// Runs `body` with a pooled connection on a blocking thread.
    package func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}
