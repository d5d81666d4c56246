import NIOConcurrencyHelpers

/// Turns concurrent small requests into batches: callers queue their input and wait; one
/// drainer at a time hands everything queued (up to `maxBatch`) to `process` and resumes
/// each caller with its own result. While a batch runs, the next one fills.
///
/// The hot path's store calls go through one of these (Redis commands, decision look-ups),
/// so under load one thread hop and one round trip serve many requests instead of one
/// each; at low load a request is processed at once, alone.
package final class RequestCoalescer<Input: Sendable, Output: Sendable>: Sendable {
    package typealias Process = @Sendable ([Input]) async throws -> [Result<Output, any Error>]

    private struct Waiting {
        var input: Input
        var continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var queue: [Waiting] = []
        var draining = false
    }

    private let process: Process
    private let maxBatch: Int
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - maxBatch: the most inputs one call of `process` gets.
    ///   - process: handles a batch; returns one result per input, in order (throwing fails
    ///     the whole batch).
    package init(maxBatch: Int, process: @escaping Process) {
        precondition(maxBatch > 0)
        self.maxBatch = maxBatch
        self.process = process
    }

    /// Queues `input` and returns its result once its batch has been processed.
    package func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startDrainer = state.withLockedValue { s in
                s.queue.append(Waiting(input: input, continuation: continuation))
                if s.draining { return false }
                s.draining = true
                return true
            }
            if startDrainer { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch: [Waiting] = state.withLockedValue { s in
                if s.queue.isEmpty {
                    s.draining = false
                    return []
                }
                let count = min(maxBatch, s.queue.count)
                defer { s.queue.removeFirst(count) }
                return Array(s.queue.prefix(count))
            }
            if batch.isEmpty { return }
            do {
                let results = try await process(batch.map(\.input))
                precondition(results.count == batch.count, "a coalesced batch must return one result per input")
                for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
