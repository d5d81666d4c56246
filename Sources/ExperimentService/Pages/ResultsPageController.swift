import Foundation
import Hummingbird

/// The results pages, `GET /results` (the experiments) and `GET /results/{key}` (one
/// experiment, `?phase=N` for one phase), server-rendered HTML with SVG plots.
///
/// They obey the API keys: with keys configured, a page shows no data until the reader
/// signs in with a key at `/results/login`, which sets an HttpOnly, SameSite=Strict
/// cookie holding it (or sends `Authorization: Bearer <key>`); `/results/logout` clears it.
public struct ResultsPageController<Context: RequestContext>: Sendable {
    let catalog: ExperimentCatalog
    let results: any ResultsStore
    let keys: APIKeys

    public init(catalog: ExperimentCatalog, results: any ResultsStore, keys: APIKeys) {
        self.catalog = catalog
        self.results = results
        self.keys = keys
    }

    static var cookieName: String { "switchboard_key" }
    /// The longest login form accepted.
    static var maxFormBytes: Int { 4_096 }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/results") { request, _ in try await self.guarded(request) { try await self.list() } }
        router.get("/results/login") { _, _ in Self.html(Self.loginPage(message: nil), status: .ok) }
        router.post("/results/login") { request, _ in try await self.login(request) }
        router.get("/results/logout") { _, _ in
            Response(status: .seeOther, headers: [.location: "/results/login", .setCookie: Self.cookie(value: "", maxAge: 0)])
        }
        router.get("/results/{key}") { request, context in
            let key = try context.parameters.require("key")
            return try await self.guarded(request) { try await self.experiment(key, request: request) }
        }
    }

    /// The page, or the login form (401) when keys are configured and the request has none
    /// valid; a refusal (an unknown or deleted experiment, a bad phase) is a page too, with
    /// the problem's status.
    func guarded(_ request: Request, _ page: () async throws -> Response) async throws -> Response {
        guard keys.isOpen || key(of: request).flatMap(keys.scope(of:)) != nil else {
            return Self.html(Self.loginPage(message: "Sign in with an API key to see results."), status: .unauthorized)
        }
        do {
            return try await page()
        } catch {
            guard let problem = Problem.from(error), problem.statusCode < 500 else { throw error }
            return Self.html(HTML.page(title: problem.title, body: """
                <h1>\(HTML.escape(problem.title))</h1><p data-problem="\(HTML.escape(problem.type))">\(HTML.escape(problem.detail))</p>
                <p><a href="/results">All experiments</a></p>
                """), status: problem.status)
        }
    }

    /// The key a request carries: its cookie, or its bearer token.
    func key(of request: Request) -> String? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        for part in (request.headers[.cookie] ?? "").split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == Self.cookieName { return String(pair[1]).removingPercentEncoding }
        }
        return nil
    }

    func login(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxFormBytes)
        let key = Self.formField("key", in: String(buffer: body)) ?? ""
        guard !keys.isOpen else { return Response(status: .seeOther, headers: [.location: "/results"]) }
        guard keys.scope(of: key) != nil else {
            return Self.html(Self.loginPage(message: "That key is not valid."), status: .unauthorized)
        }
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return Response(status: .seeOther, headers: [.location: "/results", .setCookie: Self.cookie(value: encoded, maxAge: 86_400)])
    }

    /// A field of an `application/x-www-form-urlencoded` body; nil when absent or not
    /// correctly encoded.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name[...] else { continue }
            return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    static func cookie(value: String, maxAge: Int) -> String {
        "\(cookieName)=\(value); Path=/results; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
    }

    func list() async throws -> Response {
        let experiments = try await catalog.all().filter { $0.status != .deleted }
        let summaries = try await results.summaries(of: experiments)
        let rows = experiments.map { ExperimentListPage.Row(experiment: $0, summary: summaries[$0.key] ?? .empty($0.key)) }
        return Self.html(ExperimentListPage(rows: rows).render(), status: .ok)
    }

    func experiment(_ key: String, request: Request) async throws -> Response {
        let experiment = try await catalog.readable(key).experiment
        let phase = try experiment.phase(fromQuery: request.uri.queryParameters["phase"].map(String.init))
        let figures = try await results.results(for: experiment, phase: phase)
        return Self.html(ExperimentPage(experiment: experiment, results: figures).render(), status: .ok)
    }

    static func loginPage(message: String?) -> String {
        HTML.page(title: "Sign in", body: """
            <h1>Sign in</h1>\(message.map { "<p>\(HTML.escape($0))</p>" } ?? "")
            <form class="login" method="post" action="/results/login"><label for="key">API key (client or admin)</label>
            <input id="key" name="key" type="password" autocomplete="current-password" required><button type="submit">Sign in</button></form>
            """)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
