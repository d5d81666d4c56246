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

    @Test("commands are written as RESP arrays of bulk strings, lengths in bytes")
    func resp() {
        let bytes = RedisConnection.resp([["SET", "k", "日本", ""], ["PING"]])
        #expect(String(decoding: bytes, as: UTF8.self) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n日本\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n")
    }

    @Test("a long pipeline with empty and large values comes back whole and in order")
    func largePipeline() throws {
        let connection = RedisConnection(endpoint: try .init(url: TestStores.redisURL))
        defer { connection.close() }
        let key = TestStores.uniqueKey("redis-large")
        let big = String(repeating: "x\r\n$5\r\n", count: 20_000)   // protocol-looking bytes, 160 kB
        var commands: [[String]] = [["SET", key + ":big", big], ["SET", key + ":empty", ""]]
        for i in 0..<500 { commands.append(["RPUSH", key + ":list", String(i)]) }
        commands += [["GET", key + ":big"], ["GET", key + ":empty"], ["LLEN", key + ":list"], ["DEL", key + ":big", key + ":empty", key + ":list"]]
        let replies = try connection.pipeline(commands)
        #expect(replies.count == commands.count)
        #expect(replies[501] == .integer(500))
        #expect(replies[502] == .string(big) && replies[503] == .string("") && replies[504] == .integer(500) && replies[505] == .integer(3))
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
