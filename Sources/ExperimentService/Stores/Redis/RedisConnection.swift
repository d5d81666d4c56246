import CHiredis
import Foundation

/// A Redis reply, copied out of hiredis.
package enum RedisReply: Equatable, Sendable {
    case string(String)
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    /// An error reply from the server for one command (the connection is still fine).
    case error(String)

    /// The reply as text, for bulk strings, status replies and integers.
    package var text: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }
}

/// One hiredis connection. Blocking: use it only through a ``BlockingConnectionPool``.
/// A batch of commands is written in the Redis protocol by ``resp(_:)`` (binary-safe, no
/// format strings) and pipelined in one round trip. After an I/O error the context is
/// freed and the next call reconnects.
package final class RedisConnection: BlockingConnection, @unchecked Sendable {
    /// Where and how to connect, parsed from a `redis://[:password@]host:port[/db]` URL.
    package struct Endpoint: Sendable, CustomStringConvertible {
        package var host: String
        package var port: Int
        package var password: String?
        package var database: Int

        package init(url: String) throws(StoreError) {
            guard let c = URLComponents(string: url), c.scheme == "redis", let host = c.host, !host.isEmpty else {
                throw StoreError(.unavailable, store: .redis, message: "REDIS_URL '\(url)' is not of the form redis://[:password@]host[:port][/db]")
            }
            self.host = host
            self.port = c.port ?? 6379
            self.password = c.password ?? (c.user.flatMap { $0.isEmpty ? nil : $0 })
            let path = c.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard path.isEmpty || Int(path) != nil else {
                throw StoreError(.unavailable, store: .redis, message: "REDIS_URL database '\(path)' is not a number")
            }
            self.database = Int(path) ?? 0
        }

        package var description: String { "\(host):\(port)" }
    }

    private let endpoint: Endpoint
    private let timeout: timeval
    private var context: UnsafeMutablePointer<redisContext>?

    package init(endpoint: Endpoint, timeoutSeconds: Int = 2) {
        self.endpoint = endpoint
        self.timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    }

    deinit { close() }

    package func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Sends one command and returns its reply.
    package func command(_ arguments: [String]) throws(StoreError) -> RedisReply {
        try pipeline([arguments])[0]
    }

    /// Sends all commands, then reads all replies: one network round trip.
    package func pipeline(_ commands: [[String]]) throws(StoreError) -> [RedisReply] {
        let ctx = try connected()
        // The whole batch as one RESP buffer: one copy into hiredis's output buffer.
        let encoded = Self.resp(commands)
        _ = encoded.withUnsafeBytes { raw in
            redisAppendFormattedCommand(ctx, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else {
                let message = Self.errorText(ctx)
                close()
                throw StoreError(.unavailable, store: .redis, message: "\(endpoint): \(message)")
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.convert(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Commands in the Redis protocol (RESP arrays of bulk strings): binary-safe, no format
    /// strings, what `redisAppendCommandArgv` would write.
    static func resp(_ commands: [[String]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(commands.reduce(0) { $0 + 16 + $1.reduce(0) { $0 + 16 + $1.utf8.count } })
        func header(_ marker: UInt8, _ count: Int) {
            out.append(marker)
            out.append(contentsOf: String(count).utf8)
            out.append(contentsOf: [13, 10])
        }
        for command in commands {
            header(UInt8(ascii: "*"), command.count)
            for argument in command {
                header(UInt8(ascii: "$"), argument.utf8.count)
                out.append(contentsOf: argument.utf8)
                out.append(contentsOf: [13, 10])
            }
        }
        return out
    }

    private func connected() throws(StoreError) -> UnsafeMutablePointer<redisContext> {
        if let context, context.pointee.err == 0 { return context }
        close()
        guard let ctx = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeout) else {
            throw StoreError(.unavailable, store: .redis, message: "\(endpoint): hiredis could not allocate a context")
        }
        if ctx.pointee.err != 0 {
            let message = Self.errorText(ctx)
            redisFree(ctx)
            throw StoreError(.unavailable, store: .redis, message: "\(endpoint): \(message)")
        }
        _ = redisSetTimeout(ctx, timeout)
        context = ctx
        var setup: [[String]] = []
        if let password = endpoint.password { setup.append(["AUTH", password]) }
        if endpoint.database != 0 { setup.append(["SELECT", String(endpoint.database)]) }
        if !setup.isEmpty {
            for reply in try pipeline(setup) {
                if case .error(let message) = reply {
                    close()
                    throw StoreError(.unavailable, store: .redis, message: "\(endpoint): \(message)")
                }
            }
        }
        return ctx
    }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "connection lost" : text
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .string(String(decoding: UnsafeRawBufferPointer(start: r.str, count: Int(r.len)), as: UTF8.self))
        case REDIS_REPLY_STATUS:
            return .status(String(cString: r.str))
        case REDIS_REPLY_ERROR:
            return .error(String(cString: r.str))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<Int(r.elements)).map { convert(r.element[$0]!) })
        default:
            return .null
        }
    }
}
