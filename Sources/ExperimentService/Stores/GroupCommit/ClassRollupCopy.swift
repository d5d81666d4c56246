import Foundation

/// The output classes of a batch's predictions counted per experiment, phase, arm and
/// class, appended to `switchboard.class_rollups` by a binary `COPY` in the batch's
/// transaction (beside ``RollupCopy``'s, and for the same reasons); and the statement that
/// sets the classes of decisions stored without them.
enum ClassRollupCopy {
    struct Key: Hashable {
        var experiment: String
        var phase: Int
        var arm: Int
        var outputClass: Int64
    }

    /// Output rows per key, in a stable order; empty when no decision has classes.
    static func counts(_ decisions: [Decision]) -> [(key: Key, outputRows: Int64)] {
        var totals: [Key: Int64] = [:]
        for d in decisions {
            for c in d.outputClasses ?? [] {
                totals[Key(experiment: d.experiment, phase: d.phase, arm: d.armIndex, outputClass: c), default: 0] += 1
            }
        }
        return totals.map { ($0.key, $0.value) }.sorted {
            ($0.key.experiment, $0.key.phase, $0.key.arm, $0.key.outputClass) < ($1.key.experiment, $1.key.phase, $1.key.arm, $1.key.outputClass)
        }
    }

    /// The counts as a binary `COPY` stream for ``statement``, or nil when there are none.
    static func rows(_ decisions: [Decision]) -> [UInt8]? {
        let counts = counts(decisions)
        guard !counts.isEmpty else { return nil }
        var copy = PostgresBinaryCopy(capacity: counts.count * 48)
        for c in counts {
            copy.beginRow(fields: 5)
            copy.append(text: c.key.experiment)
            copy.append(int4: Int32(clamping: c.key.phase))
            copy.append(int4: Int32(clamping: c.key.arm))
            copy.append(int8: c.key.outputClass)
            copy.append(int8: c.outputRows)
        }
        return copy.finished()
    }

    static let statement = """
        COPY switchboard.class_rollups (experiment, phase, arm_index, class, output_rows) FROM STDIN (FORMAT binary)
        """

    /// Sets the classes of decisions stored without them, rolled up under each decision's
    /// hour (`switchboard.set_output_classes`): one statement for the batch, whose one
    /// parameter is `[[decision id, [classes]], ...]` as JSON.
    static let setLate = """
        SELECT count(*) FILTER (WHERE switchboard.set_output_classes((e->>0)::uuid,
                                      ARRAY(SELECT c::bigint FROM jsonb_array_elements_text(e->1) AS c)))
        FROM jsonb_array_elements($1::jsonb) AS e
        """

    /// The parameter of ``setLate``.
    static func late(_ rows: [(decision: UUID, classes: [Int64])]) -> String {
        "[" + rows.map { #"["\#($0.decision.uuidString)",[\#($0.classes.map(String.init).joined(separator: ","))]]"# }
            .joined(separator: ",") + "]"
    }
}
