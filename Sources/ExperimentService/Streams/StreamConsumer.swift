import Foundation
import Hummingbird
import Logging
import Metrics
import NIOPosix
import ServiceLifecycle

/// The streaming mode (`switchboard consume`): assignment requests and rewards arrive on
/// Redis Streams instead of HTTP, read by a consumer group so that replicas share them.
///
/// - A request entry (`experiment`, `unit`, optional `context` as a JSON object of
///   numbers, and for a prediction `inputs` as a JSON list of tensors) is assigned as
///   `POST /assign` does (predicted as `POST /predict` does), and its decision is added to
///   the decisions stream (`request`, `experiment`, `unit`, `variant`, `decision_id`,
///   `propensity`, for a prediction `outputs`; or `request` and `error`), then acknowledged.
/// - A reward entry (`decision_id`, `reward`, optional `metric`) is stored as
///   `POST /v1/rewards` stores it, then acknowledged.
///
/// Delivery is at least once, and idempotent: a request's decision id is derived from its
/// entry id (``DecisionID/derived(stream:entry:)``), so a redelivered request finds its
/// decision already stored (a duplicate key) and answers it again; a redelivered reward is
/// a duplicate, counted once. An entry is acknowledged only after its decision or reward is
/// committed; a store that is down leaves it pending. Entries a consumer left pending for
/// ``claimIdle`` (it died) are claimed by another (`XAUTOCLAIM`).
public final class StreamConsumer: Service, Sendable {
    /// The streams and the group.
    public struct Names: Sendable {
        public var requests = "switchboard:requests"
        public var decisions = "switchboard:decisions"
        public var rewards = "switchboard:rewards"
        public var group = "switchboard"
        public init() {}
    }

    let names: Names
    let consumer: String
    let redisURL: String
    let assignments: AssignmentService
    let predictions: PredictionService?
    let rewardService: RewardService
    let decisionLog: any DecisionLog
    let threadPool: NIOThreadPool
    let logger: Logger
    /// Entries read at once, per stream.
    let batch = 200
    /// How long an entry stays pending before another consumer claims it.
    public static let claimIdle: Duration = .seconds(5)

    public init(redisURL: String, names: Names = Names(), consumer: String, assignments: AssignmentService, predictions: PredictionService? = nil,
                rewards: RewardService, decisionLog: any DecisionLog, threadPool: NIOThreadPool, logger: Logger) {
        self.redisURL = redisURL
        self.predictions = predictions
        (self.names, self.consumer, self.assignments, self.rewardService) = (names, consumer, assignments, rewards)
        (self.decisionLog, self.threadPool, self.logger) = (decisionLog, threadPool, logger)
    }

    /// One stream entry: its id and its fields.
    struct Entry: Sendable {
        var id: String
        var fields: [String: String]
    }

    public func run() async throws {
        let connection = RedisConnection(endpoint: try RedisConnection.Endpoint(url: redisURL), timeoutSeconds: 5)
        try await createGroups(connection)
        logger.info("consuming", metadata: ["requests": "\(names.requests)", "rewards": "\(names.rewards)", "consumer": "\(consumer)"])
        var lastClaim = ContinuousClock.now - Self.claimIdle
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if ContinuousClock.now - lastClaim >= Self.claimIdle {
                        lastClaim = .now
                        try await claimAbandoned(connection)
                        try await recordLag(connection)
                    }
                    try await readOnce(connection)
                } catch {
                    logger.warning("stream consumer: will retry", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        } onGracefulShutdown: {}
        connection.close()
    }

    /// Creates the group on both streams (and the streams), reading from their start; a
    /// group that exists already is kept.
    func createGroups(_ connection: RedisConnection) async throws {
        for stream in [names.requests, names.rewards] {
            let reply = try await blocking { try connection.command(["XGROUP", "CREATE", stream, self.names.group, "0", "MKSTREAM"]) }
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw StoreError(.serverError, store: .redis, message: message) }
        }
    }

    /// Reads new entries of both streams (waiting up to half a second) and handles them.
    func readOnce(_ connection: RedisConnection) async throws {
        let reply = try await blocking {
            try connection.command(["XREADGROUP", "GROUP", self.names.group, self.consumer, "COUNT", String(self.batch), "BLOCK", "500",
                                    "STREAMS", self.names.requests, self.names.rewards, ">", ">"])
        }
        if case .error(let message) = reply {
            // A stream deleted (or Redis emptied) takes its group along: create them again.
            if message.hasPrefix("NOGROUP") { try await createGroups(connection); return }
            throw StoreError(.serverError, store: .redis, message: message)
        }
        for (stream, entries) in Self.streams(reply) { try await handle(stream: stream, entries, connection) }
    }

    /// Claims what other consumers left pending too long, and handles it.
    func claimAbandoned(_ connection: RedisConnection) async throws {
        for stream in [names.requests, names.rewards] {
            let reply = try await blocking {
                try connection.command(["XAUTOCLAIM", stream, self.names.group, self.consumer,
                                        String(Int(Self.claimIdle.components.seconds * 1000)), "0-0", "COUNT", String(self.batch)])
            }
            guard case .array(let parts) = reply, parts.count >= 2 else { continue }
            let entries = Self.entries(parts[1])
            if !entries.isEmpty {
                logger.notice("claimed entries another consumer left pending", metadata: ["stream": "\(stream)", "count": "\(entries.count)"])
                Counter(label: "switchboard_stream_claimed_total", dimensions: [("stream", stream)]).increment(by: entries.count)
                try await handle(stream: stream, entries, connection)
            }
        }
    }

    /// The group's lag per stream (entries not yet delivered), as a gauge.
    func recordLag(_ connection: RedisConnection) async throws {
        for stream in [names.requests, names.rewards] {
            let reply = try await blocking { try connection.command(["XINFO", "GROUPS", stream]) }
            guard case .array(let groups) = reply else { continue }
            for case .array(let fields) in groups {
                let pairs = stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].text ?? "", fields[$0 + 1]) }
                guard pairs.first(where: { $0.0 == "name" })?.1.text == names.group else { continue }
                if case .integer(let lag)? = pairs.first(where: { $0.0 == "lag" })?.1 {
                    Gauge(label: "switchboard_stream_lag", dimensions: [("stream", stream)]).record(lag)
                }
            }
        }
    }

    func handle(stream: String, _ entries: [Entry], _ connection: RedisConnection) async throws {
        if stream == names.requests {
            let answers = await withTaskGroup(of: (Int, [String]?).self) { group in
                for (i, entry) in entries.enumerated() { group.addTask { (i, await self.decide(entry)) } }
                var answers = [[String]?](repeating: nil, count: entries.count)
                for await (i, answer) in group { answers[i] = answer }
                return answers
            }
            // The decisions first, then the acknowledgements, in one round trip; an entry whose
            // decision could not be stored stays pending.
            var commands: [[String]] = []
            for (entry, answer) in zip(entries, answers) {
                guard let answer else { continue }
                commands.append(["XADD", names.decisions, "*"] + answer)
                commands.append(["XACK", names.requests, names.group, entry.id])
            }
            if !commands.isEmpty { _ = try await blocking { [commands] in try connection.pipeline(commands) } }
            Counter(label: "switchboard_stream_entries_total", dimensions: [("stream", stream)]).increment(by: commands.count / 2)
        } else {
            let acked = try await reward(entries)
            if !acked.isEmpty { _ = try await blocking { try connection.command(["XACK", self.names.rewards, self.names.group] + acked) } }
            Counter(label: "switchboard_stream_entries_total", dimensions: [("stream", stream)]).increment(by: acked.count)
        }
    }

    /// The decision entry for a request (nil: not stored, leave it pending).
    func decide(_ entry: Entry) async -> [String]? {
        func refused(_ why: String) -> [String] { ["request", entry.id, "error", why] }
        guard let key = entry.fields["experiment"], let unit = entry.fields["unit"] else {
            return refused("an entry needs the fields 'experiment' and 'unit'")
        }
        guard let id = DecisionID.derived(stream: names.requests, entry: entry.id) else { return refused("entry id '\(entry.id)' is not ms-seq") }
        var context: [String: Double]?
        if let text = entry.fields["context"] {
            do { context = try JSONBody.decode([String: Double].self, from: Data(text.utf8)) } catch {
                return refused("field 'context' must be a JSON object of numbers: \(error)")
            }
        }
        do {
            if let text = entry.fields["inputs"] {
                // A prediction: its outputs go with the decision, as the predict route's JSON.
                guard let predictions else { return refused("this consumer takes no predictions") }
                let payloads: [TensorPayload]
                do { payloads = try JSONBody.decode([TensorPayload].self, from: Data(text.utf8)) } catch {
                    return refused("field 'inputs' must be a JSON list of tensors: \(error)")
                }
                let p = try await predictions.predict(experiment: key, unit: unit, context: context,
                                                      inputs: try PredictionController<BasicRequestContext>.tensors(payloads), decisionID: id)
                var w = JSONWriter(capacity: 256)
                w.array(p.outputs) { w, output in output.writeJSON(to: &w) }
                return answer(entry, key: key, unit: unit, p.assignment) + ["outputs", String(buffer: w.buffer)]
            }
            let choice = try await assignments.choose(experiment: key, unit: unit, context: context, sticky: true)
            return answer(entry, key: key, unit: unit, try await assignments.record(choice, decisionID: id))
        } catch let error as StoreError where error.sqlState == "23505" {
            // Redelivered: the decision is stored already; answer it again.
            guard let stored = try? await decisionLog.decisions(ids: [id])[id], let entryOfCatalog = try? await assignments.catalog.entry(key) else {
                return nil
            }
            let arms = entryOfCatalog.experiment.arms
            return ["request", entry.id, "experiment", key, "unit", stored.unit,
                    "variant", arms.indices.contains(stored.armIndex) ? arms[stored.armIndex].name : "?",
                    "decision_id", DecisionID.text(stored.id), "propensity", "\(stored.propensity)"]
        } catch let error as StoreError {
            logger.warning("a stream request was not stored; it stays pending", metadata: ["entry": "\(entry.id)", "error": "\(error)"])
            return nil
        } catch let error as ServiceError {
            if case .overloaded = error { return nil }
            return refused(error.description)
        } catch {
            return refused("\(error)")
        }
    }

    /// The decision entry's fields for a request that was decided.
    func answer(_ entry: Entry, key: String, unit: String, _ a: AssignmentService.Assignment) -> [String] {
        ["request", entry.id, "experiment", key, "unit", unit, "variant", a.variant, "decision_id", DecisionID.text(a.decisionID),
         "propensity", "\(a.propensity)"]
    }

    /// Stores the rewards of `entries`; returns the ids to acknowledge (stored, duplicates,
    /// and refused ones; not those a store failure left unstored).
    func reward(_ entries: [Entry]) async throws -> [String] {
        var items: [RewardService.Item] = [], ids: [String] = [], acked: [String] = []
        for entry in entries {
            guard let decision = entry.fields["decision_id"], let value = entry.fields["reward"].flatMap(Double.init) else {
                logger.warning("a reward entry needs 'decision_id' and a numeric 'reward'; dropped", metadata: ["entry": "\(entry.id)"])
                acked.append(entry.id)
                continue
            }
            items.append(.init(decisionID: decision, metric: entry.fields["metric"], value: value))
            ids.append(entry.id)
        }
        guard !items.isEmpty else { return acked }
        for (id, result) in zip(ids, try await rewardService.rewards(items)) {
            switch result {
            case .success: acked.append(id)
            case .failure(let error as StoreError): logger.warning("a stream reward was not stored; it stays pending", metadata: ["entry": "\(id)", "error": "\(error)"])
            case .failure(let error):
                logger.warning("a stream reward was refused; dropped", metadata: ["entry": "\(id)", "error": "\(error)"])
                acked.append(id)
            }
        }
        return acked
    }

    /// Runs blocking Redis calls off the cooperative pool.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive { try body() }
    }

    /// `XREADGROUP`'s reply as (stream, entries).
    static func streams(_ reply: RedisReply) -> [(String, [Entry])] {
        guard case .array(let streams) = reply else { return [] }
        return streams.compactMap { stream in
            guard case .array(let parts) = stream, parts.count == 2 else { return nil }
            return (parts[0].text ?? "", entries(parts[1]))
        }
    }

    /// A list of `[id, [field, value, ...]]` as entries (claimed entries deleted meanwhile are skipped).
    static func entries(_ reply: RedisReply) -> [Entry] {
        guard case .array(let list) = reply else { return [] }
        return list.compactMap { item in
            guard case .array(let parts) = item, parts.count == 2, case .array(let values) = parts[1] else { return nil }
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: values.count - 1, by: 2) { fields[values[i].text ?? ""] = values[i + 1].text }
            guard let id = parts[0].text else { return nil }
            return Entry(id: id, fields: fields)
        }
    }
}
