/// Reads an experiment's results from the statistics views.
public struct PostgresResults: ResultsStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func results(experiment key: String) async throws -> ExperimentResults {
        let (arms, srm, hours) = try await database.withConnection { conn in
            (
                try conn.query(
                    """
                    SELECT arm, is_control, decisions, expected_decisions, rewards, mean, sd, ci_low, ci_high, lift, relative_lift, p_value
                    FROM switchboard.arm_statistics WHERE experiment = $1 ORDER BY arm_index
                    """, [key]),
                try conn.query("SELECT chi_square, degrees_of_freedom, p_value FROM switchboard.experiment_srm WHERE experiment = $1", [key]),
                try conn.query(
                    """
                    SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00:00"Z"'), arm, decisions, rewards, mean
                    FROM switchboard.hourly_results WHERE experiment = $1 ORDER BY hour, arm_index
                    """, [key])
            )
        }
        func double(_ s: String?) -> Double? { s.flatMap { Double($0) } }
        let srmRow = srm.rows.first
        return ExperimentResults(
            experiment: key,
            arms: arms.rows.map { r in
                ExperimentResults.Arm(
                    arm: r[0] ?? "", isControl: r[1] == "t", decisions: Int(r[2] ?? "0") ?? 0,
                    expectedDecisions: double(r[3]) ?? 0, rewards: Int(r[4] ?? "0") ?? 0, mean: double(r[5]), sd: double(r[6]),
                    ciLow: double(r[7]), ciHigh: double(r[8]), lift: double(r[9]), relativeLift: double(r[10]), pValue: double(r[11]))
            },
            sampleRatio: .init(chiSquare: double(srmRow?[0] ?? nil), degreesOfFreedom: srmRow?[1].flatMap { Int($0) },
                               pValue: double(srmRow?[2] ?? nil)),
            hourly: hours.rows.map { r in
                .init(hour: r[0] ?? "", arm: r[1] ?? "", decisions: Int(r[2] ?? "0") ?? 0, rewards: Int(r[3] ?? "0") ?? 0, mean: double(r[4]))
            }
        )
    }
}
