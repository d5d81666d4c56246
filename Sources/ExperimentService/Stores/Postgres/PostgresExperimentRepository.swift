import Foundation

/// Experiments stored in `switchboard.experiments` and `switchboard.arms`.
public struct PostgresExperimentRepository: ExperimentRepository {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func create(_ experiment: Experiment) async throws {
        let encoder = JSONEncoder()
        let arms = String(decoding: try encoder.encode(experiment.arms), as: UTF8.self)
        let policy = try experiment.policy.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let features = String(decoding: try encoder.encode(experiment.contextFeatures), as: UTF8.self)
        let parameters: [String?] = [
            experiment.key, experiment.control, policy, features,
            experiment.stickyTTLSeconds.map(String.init), experiment.rewardWindowSeconds.map(String.init),
            experiment.salt, String(experiment.hashVersion), experiment.status.rawValue,
            String(experiment.createdAt.timeIntervalSince1970), arms, experiment.defaultReward.map { String($0) },
            String(decoding: try encoder.encode(experiment.metrics), as: UTF8.self), experiment.analysis.rawValue,
        ]
        do {
            try await database.withConnection { conn in
                try conn.transaction { conn throws(StoreError) in
                        try conn.query(
                            """
                            INSERT INTO switchboard.experiments
                              (key, control_arm, policy, context_features, sticky_ttl_seconds, reward_window_seconds,
                               salt, hash_version, status, created_at, default_reward, analysis)
                            SELECT $1, $2, $3::jsonb, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)),
                                   $5::integer, $6::integer, $7, $8::integer, $9, to_timestamp($10::float8), $11::float8, $12
                            """, Array(parameters[0..<10]) + [parameters[11], parameters[13]])
                        try Self.insertArms(conn, key: experiment.key, from: 0, arms: parameters[10])
                        try Self.replaceMetrics(conn, key: experiment.key, metrics: parameters[12])
                        try conn.query(
                            """
                            INSERT INTO switchboard.experiment_phases (experiment, phase, started_at, change, definition)
                            VALUES ($1, 1, to_timestamp($2::float8), 'created', $3::jsonb)
                            """, [experiment.key, parameters[9], try Self.definition(experiment)])
                }
            }
        } catch let error as StoreError where error.sqlState == "23505" {
            throw ServiceError.experimentExists(key: experiment.key)
        }
    }

    /// Inserts arms from position `from` on (a JSON array of arms).
    static func insertArms(_ conn: PostgresConnection, key: String, from: Int, arms: String?) throws(StoreError) {
        try conn.query(
            """
            INSERT INTO switchboard.arms (experiment, arm_index, name, weight, backend, value)
            SELECT $1, (t.ordinality - 1)::integer, t.arm->>'name', (t.arm->>'weight')::float8, t.arm->>'backend', t.arm->'value'
            FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(arm, ordinality)
            WHERE t.ordinality > $3::integer
            """, [key, arms, String(from)])
    }

    /// Replaces the declared metrics (a JSON array of metrics).
    static func replaceMetrics(_ conn: PostgresConnection, key: String, metrics: String?) throws(StoreError) {
        try conn.query("DELETE FROM switchboard.experiment_metrics WHERE experiment = $1", [key])
        try conn.query(
            """
            INSERT INTO switchboard.experiment_metrics (experiment, name, kind, direction, is_primary)
            SELECT $1, m->>'name', m->>'kind', m->>'direction', (m->>'primary')::boolean
            FROM jsonb_array_elements($2::jsonb) AS t(m)
            """, [key, metrics])
    }

    /// What a phase records of the experiment as it started: arms, policy, metrics.
    static func definition(_ e: Experiment) throws(StoreError) -> String {
        struct Definition: Encodable {
            var arms: [Experiment.Arm], control: String, policy: Experiment.PolicyReference?, metrics: [Metric]
        }
        do {
            return String(decoding: try JSONEncoder().encode(Definition(arms: e.arms, control: e.control, policy: e.policy, metrics: e.metrics)),
                          as: UTF8.self)
        } catch {
            throw StoreError(.unexpectedReply, store: .postgres, message: "cannot encode the phase's definition: \(error)")
        }
    }

    public func find(key: String) async throws -> Experiment? {
        try await load(where: "e.key = $1", [key]).first
    }

    public func change(from current: Experiment, to next: Experiment, change: String) async throws {
        let encoder = JSONEncoder()
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let arms = try json(next.arms), metrics = try json(next.metrics)
        let policy = try next.policy.map(json), history = try next.weightHistory.map(json)
        let definition = try Self.definition(next)
        do {
            try await database.withConnection { conn in
                try conn.transaction { conn throws(StoreError) in
                    let updated = try conn.query(
                        """
                        UPDATE switchboard.experiments
                        SET policy = $3::jsonb, analysis = $4, phase = $5::integer, weight_history = $6::jsonb, updated_at = now()
                        WHERE key = $1 AND phase = $2::integer
                        RETURNING key
                        """, [next.key, String(current.phase), policy, next.analysis.rawValue, String(next.phase), history])
                    guard updated.rows.count == 1 else {
                        throw StoreError(.conflict, store: .postgres, message: "experiment '\(next.key)' is no longer at phase \(current.phase)")
                    }
                    try conn.query(
                        """
                        UPDATE switchboard.arms a SET weight = (t.arm->>'weight')::float8, retired = coalesce((t.arm->>'retired')::boolean, false)
                        FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(arm, ordinality)
                        WHERE a.experiment = $1 AND a.arm_index = t.ordinality - 1
                        """, [next.key, arms])
                    try Self.insertArms(conn, key: next.key, from: current.arms.count, arms: arms)
                    try Self.replaceMetrics(conn, key: next.key, metrics: metrics)
                    try conn.query(
                        "INSERT INTO switchboard.experiment_phases (experiment, phase, change, definition) VALUES ($1, $2::integer, $3, $4::jsonb)",
                        [next.key, String(next.phase), change, definition])
                }
            }
        } catch let error as StoreError where error.code == .conflict {
            throw ServiceError.concurrentChange(key: next.key)
        }
    }

    public func phases(key: String) async throws -> [ExperimentPhase] {
        let rows = try await database.withConnection { conn in try conn.query(Self.phasesQuery, [key]) }
        return Self.phases(rows)
    }

    /// An experiment's phases, first to last (`$1`: its key).
    static let phasesQuery = """
        SELECT phase, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), change
        FROM switchboard.experiment_phases WHERE experiment = $1 ORDER BY phase
        """

    static func phases(_ rows: PostgresRows) -> [ExperimentPhase] {
        rows.rows.map { ExperimentPhase(phase: $0[0].flatMap { Int($0) } ?? 0, startedAt: $0[1] ?? "", change: $0[2] ?? "") }
    }

    public func all() async throws -> [Experiment] {
        try await load(where: "true", [])
    }

    public func transition(key: String, from: Set<Experiment.Status>, to status: Experiment.Status) async throws -> Experiment.Status? {
        let allowed = "{" + from.map(\.rawValue).sorted().joined(separator: ",") + "}"
        let rows = try await database.withConnection { conn in
            // Update when allowed; either way report the status the row has now.
            try conn.query(
                """
                WITH changed AS (
                    UPDATE switchboard.experiments SET status = $3, updated_at = now()
                    WHERE key = $1 AND status = ANY($2::text[])
                    RETURNING status)
                SELECT coalesce((SELECT status FROM changed), (SELECT status FROM switchboard.experiments WHERE key = $1))
                """, [key, allowed, status.rawValue])
        }
        return rows.rows.first?[0].flatMap(Experiment.Status.init(rawValue:))
    }

    private func load(where condition: String, _ parameters: [String?]) async throws -> [Experiment] {
        let rows = try await database.withConnection { conn in
            try conn.query(
                """
                SELECT e.key, e.control_arm, e.policy::text, to_jsonb(e.context_features)::text,
                       e.sticky_ttl_seconds, e.reward_window_seconds, e.salt, e.hash_version, e.status,
                       extract(epoch FROM e.created_at)::float8, e.default_reward,
                       (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('name', a.name, 'weight', a.weight, 'backend', a.backend,
                                                                       'retired', a.retired))
                                         || jsonb_build_object('value', a.value)
                               ORDER BY a.arm_index)
                        FROM switchboard.arms a WHERE a.experiment = e.key)::text,
                       (SELECT jsonb_agg(jsonb_build_object('name', m.name, 'kind', m.kind, 'direction', m.direction,
                                                            'primary', m.is_primary) ORDER BY NOT m.is_primary, m.name)
                        FROM switchboard.experiment_metrics m WHERE m.experiment = e.key)::text,
                       e.analysis, e.phase, e.weight_history::text
                FROM switchboard.experiments e
                WHERE \(condition)
                ORDER BY e.key
                """, parameters)
        }
        let decoder = JSONDecoder()
        return try rows.rows.map { row in
            func json<T: Decodable>(_ i: Int, _ type: T.Type) throws -> T? {
                try row[i].map { try decoder.decode(T.self, from: Data($0.utf8)) }
            }
            var experiment = Experiment(
                key: row[0] ?? "",
                arms: try json(11, [Experiment.Arm].self) ?? [],
                control: row[1] ?? "",
                policy: try json(2, Experiment.PolicyReference.self),
                contextFeatures: try json(3, [String].self) ?? [],
                stickyTTLSeconds: row[4].flatMap { Int($0) },
                rewardWindowSeconds: row[5].flatMap { Int($0) },
                salt: row[6] ?? "",
                hashVersion: row[7].flatMap { Int($0) } ?? 1,
                status: row[8].flatMap(Experiment.Status.init(rawValue:)) ?? .running,
                createdAt: Date(timeIntervalSince1970: row[9].flatMap { Double($0) } ?? 0)
            )
            experiment.defaultReward = row[10].flatMap { Double($0) }
            experiment.metrics = try json(12, [Metric].self) ?? [.defaultPrimary]
            experiment.analysis = row[13].flatMap(Analysis.init(rawValue:)) ?? .sequential
            experiment.phase = row[14].flatMap { Int($0) } ?? 1
            experiment.weightHistory = try json(15, [[Double]].self)
            return experiment
        }
    }
}
