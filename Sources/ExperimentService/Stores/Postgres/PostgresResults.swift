/// Reads an experiment's results from the statistics views (which read the rollups).
public struct PostgresResults: ResultsStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func results(for experiment: Experiment, phase: Int?) async throws -> ExperimentResults {
        let key = experiment.key, phaseText = phase.map(String.init)
        let (stats, srm, hours, cumulative, phases, latest, classes) = try await database.withConnection { conn in
            (
                try conn.query(
                    """
                    SELECT metric, arm, is_control, decisions, expected_decisions, rewards, mean, sd, ci_low, ci_high, lift, relative_lift,
                           lift_ci_low, lift_ci_high, p_value, seq_ci_low, seq_ci_high, seq_lift_ci_low, seq_lift_ci_high, seq_p_value,
                           guardrail_violated
                    FROM switchboard.metric_statistics WHERE experiment = $1 AND phase IS NOT DISTINCT FROM $2::integer
                    ORDER BY metric, arm_index
                    """, [key, phaseText]),
                try conn.query(
                    """
                    SELECT chi_square, degrees_of_freedom, p_value FROM switchboard.experiment_srm
                    WHERE experiment = $1 AND phase IS NOT DISTINCT FROM $2::integer
                    """, [key, phaseText]),
                try conn.query(
                    """
                    SELECT \(Self.hourText), arm, decisions, rewards, mean
                    FROM switchboard.hourly_results WHERE experiment = $1 AND is_primary ORDER BY hour, arm_index
                    """, [key]),
                try conn.query(
                    """
                    SELECT \(Self.hourText), arm, rewards, mean, ci_low, ci_high, seq_ci_low, seq_ci_high
                    FROM switchboard.cumulative_results WHERE experiment = $1 AND is_primary ORDER BY hour, arm_index
                    """, [key]),
                try conn.query(PostgresExperimentRepository.phasesQuery, [key]),
                try conn.query(
                    "SELECT probabilities::text FROM switchboard.decisions WHERE experiment = $1 ORDER BY created_at DESC LIMIT 1", [key]),
                try conn.query(
                    """
                    SELECT arm_index, class, output_rows FROM switchboard.output_classes
                    WHERE experiment = $1 AND phase IS NOT DISTINCT FROM $2::integer
                    """, [key, phaseText])
            )
        }
        func double(_ s: String?) -> Double? { s.flatMap { Double($0) } }
        func int(_ s: String?) -> Int { s.flatMap { Int($0) } ?? 0 }
        var byMetric: [String: [ExperimentResults.Arm]] = [:]
        for r in stats.rows {
            var arm = ExperimentResults.Arm(
                arm: r[1] ?? "", isControl: r[2] == "t", decisions: int(r[3]), expectedDecisions: double(r[4]) ?? 0, rewards: int(r[5]),
                mean: double(r[6]), sd: double(r[7]), ciLow: double(r[8]), ciHigh: double(r[9]), lift: double(r[10]),
                relativeLift: double(r[11]), pValue: double(r[14]))
            (arm.liftCILow, arm.liftCIHigh) = (double(r[12]), double(r[13]))
            (arm.seqCILow, arm.seqCIHigh, arm.seqLiftCILow, arm.seqLiftCIHigh, arm.seqPValue) = (double(r[15]), double(r[16]), double(r[17]), double(r[18]), double(r[19]))
            arm.guardrailViolated = r[20] == "t"
            byMetric[r[0] ?? "", default: []].append(arm)
        }
        let srmRow = srm.rows.first
        var results = ExperimentResults(
            experiment: key, analysis: experiment.analysis, phase: phase,
            phases: PostgresExperimentRepository.phases(phases),
            metrics: ExperimentResults.ordered(experiment.metrics).map { .init(metric: $0, arms: byMetric[$0.name] ?? []) },
            sampleRatio: .init(chiSquare: double(srmRow?[0] ?? nil), degreesOfFreedom: srmRow?[1].flatMap { Int($0) },
                               pValue: double(srmRow?[2] ?? nil)),
            hourly: hours.rows.map { r in .init(hour: r[0] ?? "", arm: r[1] ?? "", decisions: int(r[2]), rewards: int(r[3]), mean: double(r[4])) },
            cumulative: cumulative.rows.map { r in
                .init(hour: r[0] ?? "", arm: r[1] ?? "", rewards: int(r[2]), mean: double(r[3]), ciLow: double(r[4]), ciHigh: double(r[5]),
                      seqCILow: double(r[6]), seqCIHigh: double(r[7]))
            },
            traffic: latest.rows.first?[0].flatMap { $0.dropFirst().dropLast().split(separator: ",").compactMap { Double($0) } })
        let decisions = experiment.arms.indices.map { i in results.arms.indices.contains(i) ? results.arms[i].decisions : 0 }
        results.outputs = ExperimentResults.outputs(arms: experiment.arms, decisions: decisions, rows: classes.rows.compactMap { r in
            guard let arm = r[0].flatMap({ Int($0) }), let c = r[1].flatMap({ Int64($0) }), let n = r[2].flatMap({ Int($0) }) else { return nil }
            return (arm, c, n)
        })
        results.addWarnings()
        return results
    }

    /// Two queries for any number of experiments: decisions and the sample-ratio test of
    /// each, and which of those with guardrails have one moving the wrong way.
    public func summaries(of experiments: [Experiment]) async throws -> [String: ExperimentSummary] {
        guard !experiments.isEmpty else { return [:] }
        let keys = Self.textArray(experiments.map(\.key))
        let guarded = Self.textArray(experiments.filter { $0.metrics.contains { !$0.primary } }.map(\.key))
        let (srm, violated) = try await database.withConnection { conn in
            (
                try conn.query(
                    """
                    SELECT k.key, s.decisions, s.chi_square, s.degrees_of_freedom, s.p_value
                    FROM unnest($1::text[]) AS k(key)
                    LEFT JOIN switchboard.experiment_srm s ON s.experiment = k.key AND s.phase IS NULL
                    """, [keys]),
                try conn.query(
                    """
                    SELECT DISTINCT experiment FROM switchboard.metric_statistics
                    WHERE experiment = ANY($1::text[]) AND phase IS NULL AND guardrail_violated
                    """, [guarded])
            )
        }
        let violating = Set(violated.rows.compactMap { $0[0] ?? nil })
        var summaries: [String: ExperimentSummary] = [:]
        for r in srm.rows {
            guard let key = r[0] ?? nil else { continue }
            summaries[key] = ExperimentSummary(
                experiment: key, decisions: r[1].flatMap { Int($0) } ?? 0,
                sampleRatio: .init(chiSquare: r[2].flatMap { Double($0) }, degreesOfFreedom: r[3].flatMap { Int($0) }, pValue: r[4].flatMap { Double($0) }),
                guardrailViolated: violating.contains(key))
        }
        return summaries
    }

    /// A PostgreSQL array literal of `texts`, each quoted (a parameter, never SQL text).
    static func textArray(_ texts: [String]) -> String {
        "{" + texts.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    public func compactRollups() async throws -> Int {
        let rows = try await database.withConnection { conn in try conn.query("SELECT switchboard.compact_rollups() + switchboard.compact_class_rollups()") }
        return rows.rows.first?[0].flatMap { Int($0) } ?? 0
    }

    static let hourText = #"to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00:00"Z"')"#
}

extension ExperimentResults {
    /// The declared metrics in report order: the primary first, then by name.
    public static func ordered(_ metrics: [Metric]) -> [Metric] {
        metrics.sorted { ($0.primary ? 0 : 1, $0.name) < ($1.primary ? 0 : 1, $1.name) }
    }
}
