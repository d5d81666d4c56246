@testable import ExperimentService
import Foundation
import PluginSupport
import Testing

/// A change made on one replica reaches every replica within a second.
@Suite("A change to a running experiment on three replicas", .serialized)
struct ExperimentChangeReplicaTests {
    struct Answer: Decodable {
        var variant: String
        var propensity: Double
    }

    static func assign(_ base: String, _ key: String, _ unit: String) async throws -> Answer {
        let r = try await ThreeReplicasTests.request(base + "/v1/experiments/\(key)/assign", method: "POST", json: #"{"unit": "\#(unit)"}"#)
        return try JSONDecoder().decode(Answer.self, from: r.body)
    }

    @Test("a weight change made on one replica: every replica assigns by the new weights within 1 s, moving exactly the units the split history moves; PostgreSQL records the phase")
    func weightsReachEveryReplica() async throws {
        _ = try await TestStores.stores()
        let replicas = try await ThreeReplicasTests.start(count: 3)
        defer { ThreeReplicasTests.stop(replicas) }
        let key = TestStores.uniqueKey("change")
        let created = try await ThreeReplicasTests.request(replicas[0].base + "/v1/experiments", method: "POST", json: """
            {"key": "\(key)", "arms": [{"name": "control"}, {"name": "green"}]}
            """)
        try #require(created.status == 201)
        let salt = try JSONDecoder().decode(ExperimentView.self, from: created.body).salt
        let units = (0..<120).map { "unit-\($0)" }
        var before: [String: Int] = [:]
        for unit in units { before[unit] = try await Self.assign(replicas[1].base, key, unit).variant == "control" ? 0 : 1 }

        let history = SplitHistory(weights: [[1, 1], [1, 3]])
        let expected = units.map { history.arm(initial: before[$0] ?? 0, unitHash: StableHash.unitHash(salt: salt, unit: $0)) }
        let movers = units.indices.filter { expected[$0] != before[units[$0]] }
        #expect(!movers.isEmpty && movers.allSatisfy { before[units[$0]] == 0 }, "only control's units move to the growing arm")

        let patched = try await ThreeReplicasTests.request(replicas[0].base + "/v1/experiments/\(key)", method: "PATCH",
                                                           json: #"{"arms": [{"name": "green", "weight": 3}]}"#)
        try #require(patched.status == 200, "\(String(decoding: patched.body, as: UTF8.self))")
        // A replica re-reads an experiment when its copy is `ExperimentCatalog.refreshInterval` (0.5 s) old, counted
        // from when the read began, so every request that reaches a replica a second after the change committed sees
        // it. A slow machine only makes requests arrive later, so this holds however loaded the machine is.
        try await Task.sleep(for: .seconds(1))
        let probe = units[movers[0]]
        for replica in replicas {
            #expect(try await Self.assign(replica.base, key, probe).variant == "green", "replica \(replica.base) had not applied the change a second later")
        }
        try await Task.sleep(for: .milliseconds(600))
        for replica in replicas {
            for (i, unit) in units.enumerated() {
                let a = try await Self.assign(replica.base, key, unit)
                #expect(a.variant == ["control", "green"][expected[i]] && a.propensity == [0.25, 0.75][expected[i]], "\(unit) on \(replica.base)")
            }
        }
        let phases = try await TestStores.query("SELECT phase, change FROM switchboard.experiment_phases WHERE experiment = $1 ORDER BY phase", [key])
        #expect(phases == [["1", "created"], ["2", "weights"]])
        let byPhase = try await TestStores.query(
            "SELECT phase, count(*) FROM switchboard.decisions WHERE experiment = $1 GROUP BY phase ORDER BY phase", [key])
        // Phase 1: the 120 first assignments and the probes a replica answered before it saw the change.
        #expect(byPhase.count == 2 && (Int(byPhase[0][1] ?? "") ?? 0) >= 120 && (Int(byPhase[1][1] ?? "") ?? 0) >= 360, "\(byPhase)")
        let rolled = try await TestStores.query(
            "SELECT phase, sum(decisions) FROM switchboard.arm_decisions WHERE experiment = $1 AND phase IS NOT NULL GROUP BY phase ORDER BY phase", [key])
        #expect(rolled == byPhase)
    }
}
