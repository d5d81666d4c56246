@testable import ExperimentService
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@Suite("Request coalescing: concurrent small requests share one batch")
struct RequestCoalescerTests {
    struct Failure: Error {}

    @Test("every caller gets its own result; concurrent callers share batches")
    func batches() async throws {
        let calls = NIOLockedValueBox<[Int]>([])
        let coalescer = RequestCoalescer<Int, Int>(maxBatch: 64) { inputs in
            calls.withLockedValue { $0.append(inputs.count) }
            try await Task.sleep(for: .milliseconds(2))  // a round trip, while the next batch fills
            return inputs.map { .success($0 * 10) }
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<500 { group.addTask { (i, try await coalescer.submit(i)) } }
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 500)
        #expect(results.allSatisfy { $0.value == $0.key * 10 })
        let sizes = calls.withLockedValue { $0 }
        #expect(sizes.reduce(0, +) == 500)
        #expect(sizes.count < 500, "no batching: \(sizes.count) calls for 500 requests")
        #expect(sizes.allSatisfy { $0 <= 64 })
    }

    @Test("a failed batch fails its callers, and later requests still run")
    func failure() async throws {
        let fail = NIOLockedValueBox(true)
        let coalescer = RequestCoalescer<Int, Int>(maxBatch: 8) { inputs in
            if fail.withLockedValue({ $0 }) { throw Failure() }
            return inputs.map { .success($0) }
        }
        await #expect(throws: Failure.self) { try await coalescer.submit(1) }
        fail.withLockedValue { $0 = false }
        #expect(try await coalescer.submit(2) == 2)
    }
}

@Suite("Thread coalescing: batches processed by blocking code on a thread of their own")
struct ThreadCoalescerTests {
    struct Failure: Error {}

    @Test("every caller gets its own result; concurrent callers share batches")
    func batches() async throws {
        let calls = NIOLockedValueBox<[Int]>([])
        let coalescer = ThreadCoalescer<Int, Int>(name: "test-coalescer", maxBatch: 64) { inputs in
            calls.withLockedValue { $0.append(inputs.count) }
            usleep(2_000)  // a blocking round trip, while the next batch fills
            return inputs.map { $0 % 7 == 0 ? .failure(Failure()) : .success($0 * 10) }
        }
        coalescer.start()
        let results = await withTaskGroup(of: (Int, Int?).self) { group in
            for i in 0..<500 { group.addTask { (i, try? await coalescer.submit(i)) } }
            return await group.reduce(into: [Int: Int?]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 500)
        #expect(results.allSatisfy { $0.value == ($0.key % 7 == 0 ? nil : $0.key * 10) })
        let sizes = calls.withLockedValue { $0 }
        #expect(sizes.reduce(0, +) == 500)
        #expect(sizes.count < 500, "no batching: \(sizes.count) calls for 500 requests")
        #expect(sizes.allSatisfy { $0 <= 64 })
    }

    @Test("its thread does not keep the coalescer alive: releasing it stops the thread")
    func released() async throws {
        var coalescer: ThreadCoalescer<Int, Int>? = ThreadCoalescer(name: "test-coalescer-stop", maxBatch: 4) { inputs in
            inputs.map { .success($0 + 1) }
        }
        coalescer?.start()
        #expect(try await coalescer?.submit(41) == 42)
        weak let released = coalescer
        coalescer = nil
        #expect(released == nil)
    }

    @Test("a full queue refuses; stop lets the thread finish what was queued, then refuses")
    func boundedAndStopped() async throws {
        let coalescer = ThreadCoalescer<Int, Int>(name: "test-coalescer-bounded", maxBatch: 8, maxQueue: 2) { inputs in
            inputs.map { .success($0 * 2) }
        }
        // Not started: the queue fills.
        async let a = coalescer.submit(1)
        async let b = coalescer.submit(2)
        while coalescer.queued < 2 { try await Task.sleep(for: .milliseconds(2)) }
        await #expect(throws: ThreadCoalescer<Int, Int>.Refusal.full(queued: 2)) { try await coalescer.submit(3) }
        coalescer.stop()
        coalescer.start()
        #expect(try await [a, b] == [2, 4])
        await coalescer.finished()
        await #expect(throws: ThreadCoalescer<Int, Int>.Refusal.stopped) { try await coalescer.submit(4) }
    }
}
