@testable import ExperimentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("A store that is down gives 503, not a hang or a 500")
struct StoreOutageTests {
    /// A loopback port with nothing listening.
    static func closedPort() throws -> Int { try FreePort.find() }

    /// `stores` with Redis at a port where nothing listens.
    static func withDeadRedis(_ stores: Stores) throws -> Stores {
        let dead = try RedisPipeline(url: "redis://127.0.0.1:\(try closedPort())")
        var broken = stores
        broken.statistics = RedisStatisticsStore(pipeline: dead)
        broken.stickyUnits = RedisStickyUnits(pipeline: dead)
        return broken
    }

    @Test("PostgreSQL down: assign and readyz answer 503 naming PostgreSQL")
    func postgresDown() async throws {
        let real = try await TestStores.stores()
        let deadDatabase = PostgresDatabase(url: "postgresql://switchboard@127.0.0.1:\(try Self.closedPort())/switchboard", threadPool: TestStores.threadPool)
        // The experiment exists and is cached through the real stores; then the database "goes away".
        let key = TestStores.uniqueKey("pgdown")
        let catalog = ExperimentCatalog(repository: real.repository, registry: TestStores.policies)
        _ = try await catalog.create(ExperimentSpec(key: key, arms: [.init(name: "a"), .init(name: "b")]))
        let broken = Stores(repository: PostgresExperimentRepository(database: deadDatabase),
                            decisionLog: PostgresDecisionLog(database: deadDatabase), statistics: real.statistics, stickyUnits: real.stickyUnits,
                            libraries: PostgresPolicyLibraryRepository(database: deadDatabase), models: PostgresModelRepository(database: deadDatabase),
                            results: PostgresResults(database: deadDatabase), quarantine: PostgresPluginQuarantine(database: deadDatabase))
        try await withApp(stores: broken) { client in
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable)
            #expect(try ready.problem().detail == "PostgreSQL is unreachable; retry shortly")  // no host, port or user
            let assign = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#)
            #expect(assign.status == .serviceUnavailable)
            #expect(assign.headers[.retryAfter] == "1")
            let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "01900000-0000-7000-8000-000000000000", "reward": 1}"#)
            #expect(reward.status == .serviceUnavailable)
        }
    }

    @Test("Redis down: assign and readyz answer 503 naming Redis")
    func redisDown() async throws {
        let real = try await TestStores.stores()
        let broken = try Self.withDeadRedis(real)
        try await withApp(stores: broken) { client in
            let key = try await client.createExperiment(TestStores.uniqueKey("redisdown"))
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable)
            #expect(try ready.problem().detail == "Redis is unreachable; retry shortly")
            let assign = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#)
            #expect(assign.status == .serviceUnavailable)
            #expect(try assign.problem().detail.contains("Redis is unreachable"))
        }
    }

    @Test("a reward is still acknowledged when Redis fails after PostgreSQL committed it")
    func rewardDurableWithoutRedis() async throws {
        let real = try await TestStores.stores()
        let key = TestStores.uniqueKey("cacheless")
        let id = try await withApp { client in
            _ = try await client.createExperiment(key)
            return try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u1"}"#).decode(AssignResponse.self).decisionID
        }
        try await withApp(stores: try Self.withDeadRedis(real)) { client in
            let r = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(id)", "reward": 1}"#)
            #expect(r.status == .ok)
        }
        #expect(try await TestStores.query("SELECT value FROM switchboard.rewards WHERE decision_id = $1::uuid", [id]) == [["1"]])
    }
}
