import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import TestSupport
import Testing

/// The results pages' routes on in-memory stores: the keys guard them, and bad input gets
/// a 4xx (the rendering itself is tested in Chromium, `ResultsPageBrowserTests`).
@Suite("The results pages through the router, on in-memory stores")
struct ResultsPageRouterTests {
    static let keys = APIKeys(admin: ["admin-key"], client: ["client-key"])

    @Test("without a key: a login form and no data; a login sets an HttpOnly cookie that opens the pages")
    func login() async throws {
        try await withMemoryApp(keys: Self.keys) { client in
            let headers: HTTPFields = [.authorization: "Bearer admin-key"]
            _ = try await client.execute(uri: "/v1/experiments", method: .post, headers: headers + [.contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"key": "secret-test", "arms": [{"name": "a"}, {"name": "b"}]}"#))
            for path in ["/results", "/results/secret-test"] {
                let locked = try await client.execute(uri: path, method: .get)
                #expect(locked.status == .unauthorized)
                let html = String(buffer: locked.body)
                #expect(html.contains("<form class=\"login\"") && !html.contains("secret-test"))
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            for bad in ["key=wrong", "key=%ZZ%", "nokey", "", "key=client-key%"] {
                let r = try await client.execute(uri: "/results/login", method: .post, headers: form, body: ByteBuffer(string: bad))
                #expect(r.status == .unauthorized, "\(bad)")
                #expect(r.headers[.setCookie] == nil)
            }
            let huge = try await client.execute(uri: "/results/login", method: .post, headers: form,
                                                body: ByteBuffer(string: "key=" + String(repeating: "x", count: 10_000)))
            #expect(huge.status == .contentTooLarge)
            let ok = try await client.execute(uri: "/results/login", method: .post, headers: form, body: ByteBuffer(string: "key=client-key"))
            #expect(ok.status == .seeOther && ok.headers[.location] == "/results")
            let cookie = try #require(ok.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/results"))
            let value = String(cookie.prefix { $0 != ";" })
            let list = try await client.execute(uri: "/results", method: .get, headers: [.cookie: value])
            #expect(list.status == .ok && String(buffer: list.body).contains("data-experiment=\"secret-test\""))
            let page = try await client.execute(uri: "/results/secret-test", method: .get, headers: [.cookie: value])
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let bearer = try await client.execute(uri: "/results/secret-test", method: .get, headers: headers)
            #expect(bearer.status == .ok)
        }
    }

    @Test("bad paths and phases are 4xx pages; names are escaped")
    func badInput() async throws {
        try await withMemoryApp { client in
            _ = try await client.send(.post, "/v1/experiments", json: #"{"key": "esc", "arms": [{"name": "a"}, {"name": "b"}], "metrics": [{"name": "x.y-z"}]}"#)
            let missing = try await client.execute(uri: "/results/nope", method: .get)
            #expect(missing.status == .notFound && missing.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: missing.body).contains("no experiment has the key &#39;nope&#39;") || String(buffer: missing.body).contains("nope"))
            #expect(try await client.execute(uri: "/results/%3Cscript%3E", method: .get).status == .notFound)
            for phase in ["abc", "0", "2", "-1", "99999999999999999999"] {
                #expect(try await client.execute(uri: "/results/esc?phase=\(phase)", method: .get).status == .unprocessableContent, "\(phase)")
            }
            let page = String(buffer: try await client.execute(uri: "/results/esc?phase=1", method: .get).body)
            #expect(page.contains("data-metric=\"x.y-z\"") && !page.contains("<script"))
        }
    }
}
