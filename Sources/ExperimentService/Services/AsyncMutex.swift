import NIOConcurrencyHelpers

/// A mutual-exclusion lock that can be held across `await` (FIFO; not reentrant).
final class AsyncMutex: Sendable {
    private let state = NIOLockedValueBox<(locked: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        await withCheckedContinuation { continuation in
            let acquired = state.withLockedValue { s -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func unlock() {
        let next = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()  // ownership passes straight to the next waiter
        }
        next?.resume()
    }
}
