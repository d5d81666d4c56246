import Foundation

/// Turns concurrent small requests into batches processed by blocking code on a thread of
/// its own: callers queue their input and wait; the thread takes everything queued (up to
/// `maxBatch`), runs `process` and resumes each caller with its own result. While a batch
/// runs, the next one fills.
///
/// Unlike ``RequestCoalescer`` over a ``BlockingConnectionPool``, a batch does not wait to
/// be scheduled twice on its way (a drainer task, then a pool thread): on a busy machine
/// each such hop adds latency to every request in the batch. The thread stops when the
/// coalescer is released, after processing what was queued.
package final class ThreadCoalescer<Input: Sendable, Output: Sendable>: Sendable {
    /// Handles a batch on the coalescer's thread; returns one result per input, in order.
    package typealias Process = @Sendable ([Input]) -> [Result<Output, any Error>]

    private struct Waiting {
        var input: Input
        var continuation: CheckedContinuation<Output, any Error>
    }

    /// The queue, shared with the thread (which must not keep the coalescer alive).
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var waiting: [Waiting] = []   // guarded by `condition`
        var stopped = false           // guarded by `condition`

        /// The next batch; nil once stopped and empty.
        func next(maxBatch: Int) -> [Waiting]? {
            condition.lock()
            defer { condition.unlock() }
            while waiting.isEmpty && !stopped { condition.wait() }
            if waiting.isEmpty { return nil }
            let count = min(maxBatch, waiting.count)
            defer { waiting.removeFirst(count) }
            return Array(waiting.prefix(count))
        }
    }

    private let queue = Queue()

    /// - Parameters:
    ///   - name: the thread's name (seen in profilers and debuggers).
    ///   - maxBatch: the most inputs one call of `process` gets.
    ///   - process: handles a batch with blocking calls.
    package init(name: String, maxBatch: Int, process: @escaping Process) {
        precondition(maxBatch > 0)
        let queue = self.queue
        let thread = Thread {
            while let batch = queue.next(maxBatch: maxBatch) {
                let results = process(batch.map(\.input))
                precondition(results.count == batch.count, "a coalesced batch must return one result per input")
                for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result) }
            }
        }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// Queues `input` and returns its result once its batch has been processed.
    package func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            queue.condition.lock()
            queue.waiting.append(Waiting(input: input, continuation: continuation))
            queue.condition.signal()
            queue.condition.unlock()
        }
    }
}
