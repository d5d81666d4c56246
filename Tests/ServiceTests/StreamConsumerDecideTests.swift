@testable import ExperimentService
import Foundation
import InMemoryStores
import TestSupport
import Testing

/// The stream consumer's handling of one request entry, on in-memory stores: a redelivered
/// entry answers the decision already stored (the live consumer is tested, kill -9
/// included, in `StreamConsumerTests`).
@Suite("Stream requests: one decision per entry, however often it is delivered")
struct StreamConsumerDecideTests {
    @Test("the same entry twice gives the same decision, stored once; bad entries get an error entry")
    func redelivery() async throws {
        let memory = InMemoryStores()
        let components = ServiceComponents(stores: memory.stores, policies: TestSupport.policies, logger: TestSupport.logger)
        let writer = Task { try await components.groupCommit.run() }
        defer { writer.cancel() }
        _ = try await components.catalog.create(try JSONDecoder().decode(ExperimentSpec.self, from: Data(#"""
            {"key": "s", "arms": [{"name": "a"}, {"name": "b"}], "policy": {"name": "thompson"}}
            """#.utf8)))
        let consumer = StreamConsumer(redisURL: "redis://127.0.0.1:1", consumer: "t", assignments: components.assignments,
                                      rewards: components.rewards, decisionLog: memory.decisionLog, threadPool: .singleton,
                                      logger: TestSupport.logger)
        let entry = StreamConsumer.Entry(id: "1796559505169-0", fields: ["experiment": "s", "unit": "u1"])
        let first = try #require(await consumer.decide(entry))
        let again = try #require(await consumer.decide(entry))
        func field(_ answer: [String], _ name: String) -> String? {
            stride(from: 0, to: answer.count - 1, by: 2).first { answer[$0] == name }.map { answer[$0 + 1] }
        }
        let id = try #require(field(first, "decision_id"))
        #expect(field(again, "decision_id") == id && field(again, "variant") == field(first, "variant"))
        #expect(id == DecisionID.derived(stream: consumer.names.requests, entry: entry.id).map(DecisionID.text))
        let uuid = try #require(UUID(uuidString: id))
        #expect(try await memory.decisionLog.decisions(ids: [uuid]).count == 1)
        for (fields, why) in [(["unit": "u"], "needs the fields 'experiment' and 'unit'"),
                              (["experiment": "nope", "unit": "u"], "no experiment has the key 'nope'"),
                              (["experiment": "s", "unit": "u", "context": "[1]"], "field 'context' must be a JSON object of numbers")] {
            let answer = try #require(await consumer.decide(.init(id: "1796559505170-0", fields: fields)))
            #expect(field(answer, "error")?.contains(why) == true, "\(answer)")
        }
        #expect(await consumer.decide(.init(id: "not-an-id", fields: ["experiment": "s", "unit": "u"])).flatMap { field($0, "error") } != nil)
    }
}
