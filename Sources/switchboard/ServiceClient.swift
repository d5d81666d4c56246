import ExperimentService
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The admin routes `apply`, `diff` and `get` call on a running service.
struct ServiceClient {
    let base: String
    let key: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends a request; returns the status and body. A refusal's problem detail becomes the
    /// error's message when `expect` does not contain the status.
    func send(_ method: String, _ path: String, body: Data? = nil, expect: Set<Int> = [200, 201, 204]) async throws -> (status: Int, body: Data) {
        guard let url = URL(string: base + path) else { throw Failure(description: "'\(base + path)' is not a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw Failure(description: "\(method) \(base + path): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard expect.contains(status) else {
            let detail = (try? JSONDecoder().decode(Problem.self, from: data))?.detail ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw Failure(description: "\(method) \(path): HTTP \(status): \(detail)")
        }
        return (status, data)
    }

    /// The experiment with `key`, or nil when there is none.
    func experiment(_ key: String) async throws -> ExperimentView? {
        let (status, data) = try await send("GET", "/v1/experiments/\(key)", expect: [200, 404])
        return status == 404 ? nil : try JSONDecoder().decode(ExperimentView.self, from: data)
    }

    /// The names of the registered model backends (as the service answering lists them).
    func backendNames() async throws -> Set<String> {
        struct Listed: Decodable {
            struct Backend: Decodable { var name: String }
            var backends: [Backend]
        }
        return Set(try JSONDecoder().decode(Listed.self, from: try await send("GET", "/v1/backends").body).backends.map(\.name))
    }

    /// Every experiment, archived ones included.
    func experiments() async throws -> [ExperimentView] {
        try JSONDecoder().decode(ExperimentList.self, from: try await send("GET", "/v1/experiments?include=archived").body).experiments
    }
}
