import Foundation

/// Turns concurrent small requests into batches processed by blocking code on a thread of
/// its own: callers queue their input and wait; the thread takes everything queued (up to
/// `maxBatch`), runs `process` and resumes each caller with its own result. While a batch
/// runs, the next one fills.
///
/// Unlike ``RequestCoalescer`` over a ``BlockingConnectionPool``, a batch does not wait to
/// be scheduled twice on its way (a drainer task, then a pool thread): on a busy machine
/// each such hop adds latency to every request in the batch.
///
/// The queue is bounded (`maxQueue`): past it a caller gets ``Refusal/full(queued:)``
/// instead of an ever-growing backlog. Inputs queue from the start; the thread runs from
/// ``start()``. ``stop()`` refuses new inputs and lets the thread finish what was queued
/// (``finished()`` waits for that); releasing the coalescer stops it too.
package final class ThreadCoalescer<Input: Sendable, Output: Sendable>: Sendable {
    /// Handles a batch on the coalescer's thread; returns one result per input, in order.
    package typealias Process = @Sendable ([Input]) -> [Result<Output, any Error>]

    /// Why an input was not queued.
    package enum Refusal: Error, Equatable {
        /// The queue holds `queued` inputs, its limit.
        case full(queued: Int)
        /// ``stop()`` was called.
        case stopped
    }

    private struct Waiting {
        var input: Input
        /// Gives the caller its result (a continuation's, or one slot of a group's).
        var resume: @Sendable (Result<Output, any Error>) -> Void
    }

    /// The queue, shared with the thread (which must not keep the coalescer alive).
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        // All guarded by `condition`.
        var waiting: [Waiting] = []
        var started = false
        var stopped = false
        var exited = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []

        func locked<T>(_ body: () -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body()
        }

        /// The next batch; nil once stopped and empty.
        func next(maxBatch: Int) -> [Waiting]? {
            locked {
                while waiting.isEmpty && !stopped { condition.wait() }
                if waiting.isEmpty { return nil }
                let count = min(maxBatch, waiting.count)
                defer { waiting.removeFirst(count) }
                return Array(waiting.prefix(count))
            }
        }

        func stop() {
            locked {
                stopped = true
                condition.broadcast()
            }
        }

        func exit() {
            let waiters = locked {
                exited = true
                defer { finishWaiters = [] }
                return finishWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    private let queue = Queue()
    private let name: String
    private let maxBatch: Int
    private let maxQueue: Int
    private let process: Process

    /// - Parameters:
    ///   - name: the thread's name (seen in profilers and debuggers).
    ///   - maxBatch: the most inputs one call of `process` gets.
    ///   - maxQueue: the most inputs waiting at once.
    ///   - process: handles a batch with blocking calls.
    package init(name: String, maxBatch: Int, maxQueue: Int = .max, process: @escaping Process) {
        precondition(maxBatch > 0 && maxQueue > 0)
        self.name = name
        self.maxBatch = maxBatch
        self.maxQueue = maxQueue
        self.process = process
    }

    deinit { queue.stop() }

    /// Starts the thread (once; later calls do nothing).
    package func start() {
        let (queue, maxBatch, process) = (self.queue, self.maxBatch, self.process)
        let first = queue.locked { () -> Bool in
            defer { queue.started = true }
            return !queue.started
        }
        guard first else { return }
        let thread = Thread {
            while let batch = queue.next(maxBatch: maxBatch) {
                let results = process(batch.map(\.input))
                precondition(results.count == batch.count, "a coalesced batch must return one result per input")
                for (waiting, result) in zip(batch, results) { waiting.resume(result) }
            }
            queue.exit()
        }
        thread.name = name
        thread.start()
    }

    /// Refuses new inputs; the thread finishes what is queued, then ends.
    package func stop() { queue.stop() }

    /// Returns once the thread has ended (after ``stop()`` and the last batch).
    package func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = queue.locked { () -> Bool in
                if queue.exited { return true }
                queue.finishWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// How many inputs are waiting.
    package var queued: Int { queue.locked { queue.waiting.count } }

    /// Queues `input` and returns its result once its batch has been processed; throws
    /// ``Refusal`` if the queue is full or stopped.
    package func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            if let refusal = enqueue(CollectionOfOne(Waiting(input: input, resume: { continuation.resume(with: $0) }))) {
                continuation.resume(throwing: refusal)
            }
        }
    }

    /// Queues `input` without waiting: `completion` gets its result once its batch has been
    /// processed. Returns the ``Refusal`` instead if it was not queued.
    package func post(_ input: Input, completion: @escaping @Sendable (Result<Output, any Error>) -> Void) -> Refusal? {
        enqueue(CollectionOfOne(Waiting(input: input, resume: completion)))
    }

    /// Queues `inputs` together (they are processed in order, in as few batches as
    /// `maxBatch` allows) and returns one result per input once all are processed; if the
    /// queue has no room for all of them, none is queued and each gets the ``Refusal``.
    package func submitAll(_ inputs: [Input]) async -> [Result<Output, any Error>] {
        guard !inputs.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<Output, any Error>], Never>) in
            let group = Group(count: inputs.count, continuation: continuation)
            let waiting = inputs.enumerated().map { i, input in Waiting(input: input, resume: { group.set(i, $0) }) }
            if let refusal = enqueue(waiting) {
                continuation.resume(returning: inputs.map { _ in .failure(refusal) })
            }
        }
    }

    /// Appends `waiting` unless the queue is stopped or has no room for all of it.
    private func enqueue(_ waiting: some Collection<Waiting>) -> Refusal? {
        queue.locked { () -> Refusal? in
            if queue.stopped { return .stopped }
            if queue.waiting.count + waiting.count > maxQueue { return .full(queued: queue.waiting.count) }
            queue.waiting.append(contentsOf: waiting)
            queue.condition.signal()
            return nil
        }
    }

    /// The results of a ``submitAll(_:)``, resumed once the last one is in.
    private final class Group: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<Output, any Error>?]
        private var missing: Int
        private let continuation: CheckedContinuation<[Result<Output, any Error>], Never>

        init(count: Int, continuation: CheckedContinuation<[Result<Output, any Error>], Never>) {
            results = Array(repeating: nil, count: count)
            missing = count
            self.continuation = continuation
        }

        func set(_ index: Int, _ result: Result<Output, any Error>) {
            let done: [Result<Output, any Error>]? = lock.withLock {
                results[index] = result
                missing -= 1
                return missing == 0 ? results.map { $0! } : nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}
