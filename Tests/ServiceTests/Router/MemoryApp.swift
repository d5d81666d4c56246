import ExperimentService
import Hummingbird
import HummingbirdTesting
import InMemoryStores
import TestSupport

/// Runs `test` against the whole application (router, services, group commit, statistics
/// cache) on in-memory stores, through Hummingbird's router test client: no PostgreSQL,
/// no Redis.
func withMemoryApp<T>(_ memory: InMemoryStores = InMemoryStores(), keys: APIKeys = APIKeys(admin: [], client: []),
                      _ test: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
    let app = buildApplication(host: "127.0.0.1", port: 0, stores: memory.stores, policies: TestSupport.policies, keys: keys,
                               metrics: TestSupport.metrics, logger: TestSupport.logger)
    return try await app.test(.router, test)
}
