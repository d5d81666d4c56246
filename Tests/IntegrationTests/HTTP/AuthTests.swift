import ExperimentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("API keys: client and admin scopes")
struct AuthTests {
    static let keys = APIKeys(admin: ["admin-secret"], client: ["client-secret", "other-client"])

    @Test("no key or an unknown key is a 401 with WWW-Authenticate; health routes stay open")
    func unauthenticated() async throws {
        try await withApp(keys: Self.keys) { client in
            let none = try await client.send(.post, "/v1/experiments/x/assign", json: #"{"unit": "u"}"#)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] == "Bearer")
            #expect(try none.problem().detail == "this route needs 'Authorization: Bearer <key>'")
            let wrong = try await client.send(.post, "/v1/experiments/x/assign", json: #"{"unit": "u"}"#, key: "client-secreT")
            #expect(try wrong.problem().detail == "the API key is not valid")
            var basic = HTTPFields()
            basic[.authorization] = "Basic abc"
            let scheme = try await client.execute(uri: "/v1/experiments", method: .get, headers: basic)
            #expect(scheme.status == .unauthorized)
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
        }
    }

    @Test("a client key may assign, reward and read, but not manage (403)")
    func clientScope() async throws {
        try await withApp(keys: Self.keys) { client in
            let key = TestStores.uniqueKey("auth")
            let create = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}]}"#, key: "client-secret")
            #expect(create.status == .forbidden)
            #expect(try create.problem().detail == "this route needs an admin key; the key given is a client key")
            #expect(try await client.send(.post, "/v1/policies", json: #"{"path": "x"}"#, key: "client-secret").status == .forbidden)
            #expect(try await client.send(.get, "/v1/policies", key: "other-client").status == .forbidden)

            let created = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}, {"name": "b"}]}"#, key: "admin-secret")
            #expect(created.status == .created)
            let assign = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#, key: "client-secret")
            #expect(assign.status == .ok)
            let a = try assign.decode(AssignResponse.self)
            let reward = try await client.send(.post, "/v1/rewards", json: #"{"decision_id": "\#(a.decisionID)", "reward": 1}"#, key: "other-client")
            #expect(reward.status == .ok)
            #expect(try await client.send(.get, "/v1/experiments/\(key)", key: "client-secret").status == .ok)
        }
    }

    @Test("an admin key may do everything")
    func adminScope() async throws {
        try await withApp(keys: Self.keys) { client in
            let key = TestStores.uniqueKey("admin")
            let created = try await client.send(.post, "/v1/experiments", json: #"{"key": "\#(key)", "arms": [{"name": "a"}]}"#, key: "admin-secret")
            let assigned = try await client.send(.post, "/v1/experiments/\(key)/assign", json: #"{"unit": "u"}"#, key: "admin-secret")
            let listed = try await client.send(.get, "/v1/policies", key: "admin-secret")
            #expect([created.status, assigned.status, listed.status] == [.created, .ok, .ok])
        }
    }

    @Test("keys come from SWITCHBOARD_ADMIN_KEYS and SWITCHBOARD_CLIENT_KEYS, comma-separated")
    func environment() {
        let keys = APIKeys.fromEnvironment(["SWITCHBOARD_ADMIN_KEYS": "a1, a2", "SWITCHBOARD_CLIENT_KEYS": "c1,,"])
        #expect(!keys.isOpen)
        #expect(APIKeys.fromEnvironment([:]).isOpen)
    }
}
