@testable import ExperimentService
import Foundation
import Hummingbird
import ServiceLifecycle
import HummingbirdTesting
import Testing

/// The resource limits: requests in progress, connections, idle connections.
@Suite("Server limits: in-flight requests, connections, idle timeout")
struct ServerLimitsTests {
    /// Holds requests until opened.
    actor Gate {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var open = false
        func wait() async {
            if open { return }
            await withCheckedContinuation { waiting.append($0) }
        }
        func release() { open = true; waiting.forEach { $0.resume() }; waiting = [] }
        var count: Int { waiting.count }
    }

    @Test("past the in-flight limit a request gets a 503 overloaded problem with Retry-After (OFREP: 429); health routes still answer")
    func inFlightLimit() async throws {
        let gate = Gate()
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: InFlightLimitMiddleware(limit: 2))
        router.get("/slow") { _, _ -> String in await gate.wait(); return "done" }
        router.get("/healthz") { _, _ -> String in "ok" }
        router.get("/v2/health/live") { _, _ -> String in "ok" }
        router.post("/v2/models/m/infer") { _, _ -> String in "inferred" }
        router.post("/ofrep/v1/evaluate/flags/f") { _, _ -> String in "evaluated" }
        try await Application(router: router).test(.router) { client in
            async let first = client.send(.get, "/slow")
            async let second = client.send(.get, "/slow")
            while await gate.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
            let third = try await client.send(.get, "/slow")
            #expect(third.status == .serviceUnavailable)
            #expect(third.headers[.retryAfter] == "1")
            #expect(try third.problem().detail == "the service is overloaded (2 requests are in progress, the limit); retry shortly")
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/v2/health/live").status == .ok)
            // The protocols' routes are refused in their own shapes: OIP's {"error"}, OFREP's 429.
            let infer = try await client.send(.post, "/v2/models/m/infer", json: "{}")
            #expect(infer.status == .serviceUnavailable && (try? infer.decode([String: String].self))?["error"]?.contains("overloaded") == true)
            let flag = try await client.send(.post, "/ofrep/v1/evaluate/flags/f", json: "{}")
            #expect(flag.status == .tooManyRequests && flag.headers[.retryAfter] == "1")
            await gate.release()
            #expect(try await [first.status, second.status] == [.ok, .ok])
            #expect(try await client.send(.get, "/slow").status == .ok)  // the count went back down
        }
    }

    /// A raw TCP connection to the app, to see what the server does with the connection itself.
    final class Connection {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok != 0 { throw POSIXError(.ECONNREFUSED) }  // deinit closes fd
        }
        private var open = true
        deinit { close() }
        func close() {
            if open { Glibc.close(fd) }
            open = false
        }
        func send(_ text: String) { _ = text.withCString { write(fd, $0, strlen($0)) } }
        /// What arrives within `timeout` (and right after): the bytes, nil for nothing, "" when the server closed the connection.
        func receive(timeout: Double) -> String? {
            func readOnce(_ seconds: Double) -> [UInt8]? {
                var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - floor(seconds)) * 1e6))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &buffer, buffer.count)
                // A reset is the server closing the connection too (seen under load).
                if n < 0 && errno == ECONNRESET { return [] }
                return n < 0 ? nil : Array(buffer.prefix(n))
            }
            guard var bytes = readOnce(timeout) else { return nil }
            while !bytes.isEmpty, let more = readOnce(0.1), !more.isEmpty { bytes += more }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test("an idle connection is closed; connections past the cap wait until one closes")
    func connections() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(1)
        limits.maxConnections = 2
        // Run for real (Hummingbird's live test framework drops the connections delegate), on a
        // port the kernel picks, stopped gracefully (cancelling a server with open connections traps in NIO).
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(host: "127.0.0.1", port: 0, stores: try await TestStores.stores(), policies: TestStores.policies,
                                   limits: limits, logger: TestStores.logger,
                                   onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        let group = ServiceGroup(services: [app], logger: TestStores.logger)
        let server = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        /// What the connections saw, gathered on a thread of their own (blocking reads on the
        /// cooperative pool would starve the server's own request tasks).
        struct Seen: Sendable { var a, b, cWhileFull, c, bIdle: String? }
        @Sendable func exercise() throws -> Seen {
            let a = try Connection(port: port), b = try Connection(port: port)
            a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let aAnswer = a.receive(timeout: 5)
            b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let bAnswer = b.receive(timeout: 5)
            let c = try Connection(port: port)  // accepted by the kernel, not served while two are open
            c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let whileFull = c.receive(timeout: 0.3)
            a.close()  // a slot frees: c is served
            let cAnswer = c.receive(timeout: 15)
            return Seen(a: aAnswer, b: bAnswer, cWhileFull: whileFull, c: cAnswer, bIdle: b.receive(timeout: 30))
        }
        let result = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try exercise() }) }.start()  // the connections close when it returns
        }
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        let seen = try result.get()
        #expect(seen.a?.hasPrefix("HTTP/1.1 200") == true && seen.b?.hasPrefix("HTTP/1.1 200") == true)
        #expect(seen.cWhileFull == nil, "a third connection was served while two were open")
        #expect(seen.c?.hasPrefix("HTTP/1.1 200") == true, "the third connection was not served once a slot freed")
        #expect(seen.bIdle == "", "an idle connection was not closed")  // "" is the server's close
    }
}
