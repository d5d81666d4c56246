/// A batch's decisions summed per experiment, phase and arm, appended to
/// `switchboard.arm_rollups` by a second binary `COPY` in the batch's transaction (the hour
/// comes from the table's default, the transaction's `now()`, as the decisions' own
/// `created_at` does). The group commit sums its rows itself, which costs microseconds;
/// the statement trigger other writers rely on is told to stand aside
/// (``RollupCopy/writerRollsUp``).
enum RollupCopy {
    struct Key: Hashable {
        var experiment: String
        var phase: Int
        var arm: Int
    }

    /// Decisions and expected decisions (the sum of each decision's logged probability of
    /// the arm) per key, in a stable order.
    static func sums(_ decisions: [Decision]) -> [(key: Key, decisions: Int64, expected: Double)] {
        var totals: [Key: (decisions: Int64, expected: Double)] = [:]
        for d in decisions {
            totals[Key(experiment: d.experiment, phase: d.phase, arm: d.armIndex), default: (0, 0)].decisions += 1
            for (arm, p) in (d.probabilities ?? []).enumerated() where p != 0 {
                totals[Key(experiment: d.experiment, phase: d.phase, arm: arm), default: (0, 0)].expected += p
            }
        }
        return totals.map { ($0.key, $0.value.decisions, $0.value.expected) }
            .sorted { ($0.key.experiment, $0.key.phase, $0.key.arm) < ($1.key.experiment, $1.key.phase, $1.key.arm) }
    }

    /// The sums as a binary `COPY` stream for ``statement``.
    static func rows(_ decisions: [Decision]) -> [UInt8] {
        let sums = sums(decisions)
        var copy = PostgresBinaryCopy(capacity: sums.count * 48)
        for s in sums {
            copy.beginRow(fields: 5)
            copy.append(text: s.key.experiment)
            copy.append(int4: Int32(clamping: s.key.phase))
            copy.append(int4: Int32(clamping: s.key.arm))
            copy.append(int8: s.decisions)
            copy.append(float8: s.expected)
        }
        return copy.finished()
    }

    static let statement = """
        COPY switchboard.arm_rollups (experiment, phase, arm_index, decisions, expected_decisions) FROM STDIN (FORMAT binary)
        """

    /// Selected first in the batch's transaction: its id, and the setting that tells the
    /// rollup triggers this writer sums its own rows.
    static let transactionPrelude = "SELECT pg_current_xact_id()::text, set_config('switchboard.writer_rolls_up', 'on', true)"
}
