@testable import ExperimentService
import Testing

@Suite("hiredis connection")
struct RedisConnectionTests {
    @Test("commands are binary-safe and pipelined replies come back in order")
    func pipeline() throws {
        let connection = RedisConnection(endpoint: try .init(url: TestStores.redisURL))
        defer { connection.close() }
        let key = TestStores.uniqueKey("redis-test")
        let value = "spaces, \"quotes\", % signs, ünïcödé and a\nnewline"
        let replies = try connection.pipeline([["SET", key, value], ["GET", key], ["INCR", key], ["DEL", key], ["GET", key]])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .string(value))
        guard case .error(let message) = replies[2] else { Issue.record("INCR on text should fail"); return }
        #expect(message.contains("not an integer"))
        #expect(replies[3] == .integer(1))
        #expect(replies[4] == .null)
    }

    @Test("REDIS_URL is parsed, and a malformed one is refused")
    func endpoints() throws {
        let e = try RedisConnection.Endpoint(url: "redis://:secret@10.0.0.5:6380/2")
        #expect(e.host == "10.0.0.5")
        #expect(e.port == 6380)
        #expect(e.password == "secret")
        #expect(e.database == 2)
        #expect(throws: StoreError.self) { try RedisConnection.Endpoint(url: "http://localhost") }
        #expect(throws: StoreError.self) { try RedisConnection.Endpoint(url: "redis://localhost/x") }
    }
}
