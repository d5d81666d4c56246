import NIOConcurrencyHelpers
import NIOPosix

/// A connection that is used by one thread at a time and reconnects by itself after a failure.
/// Conforming classes are `@unchecked Sendable`: the pool hands each to one thread at a time.
package protocol BlockingConnection: AnyObject, Sendable {
    /// Closes the connection; the next use connects again.
    func close()
}

/// A fixed set of blocking client connections (libpq, hiredis) used from async code.
///
/// A caller borrows a connection for the duration of `withConnection`, and the body runs
/// on the pool's `NIOThreadPool`, never on an event loop or a cooperative thread. When all
/// connections are busy, callers wait in FIFO order.
package final class BlockingConnectionPool<Connection: BlockingConnection>: @unchecked Sendable {
    private let lock = NIOLock()
    private var idle: [Connection]
    private var waiters: [CheckedContinuation<Connection, Never>] = []
    private let threadPool: NIOThreadPool

    /// - Parameters:
    ///   - connections: the connections to share; they connect lazily on first use.
    ///   - threadPool: the threads that run blocking calls.
    package init(connections: [Connection], threadPool: NIOThreadPool) {
        precondition(!connections.isEmpty)
        self.idle = connections
        self.threadPool = threadPool
    }

    /// Runs `body` with a borrowed connection on a pool thread.
    package func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let connection = await acquire()
        defer { release(connection) }
        return try await threadPool.runIfActive { try body(connection) }
    }

    private func acquire() async -> Connection {
        if let c = lock.withLock({ idle.popLast() }) { return c }
        return await withCheckedContinuation { continuation in
            let ready: Connection? = lock.withLock {
                if let c = idle.popLast() { return c }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func release(_ connection: Connection) {
        let waiter: CheckedContinuation<Connection, Never>? = lock.withLock {
            if waiters.isEmpty {
                idle.append(connection)
                return nil
            }
            return waiters.removeFirst()
        }
        waiter?.resume(returning: connection)
    }
}
