/// A batch's prediction classes as two binary `COPY` streams in the batch's transaction:
/// the rows of `switchboard.decision_classes`, and their counts per experiment, phase, arm
/// and class appended to `switchboard.class_rollups` (summed here, as ``RollupCopy`` sums
/// decisions; the statement trigger stands aside for this writer).
enum ClassCopy {
    struct Key: Hashable {
        var experiment: String
        var phase: Int
        var arm: Int
        var outputClass: Int64
    }

    /// Output rows per key, in a stable order.
    static func counts(_ rows: [DecisionClasses]) -> [(key: Key, outputRows: Int64)] {
        var totals: [Key: Int64] = [:]
        for r in rows {
            for c in r.classes { totals[Key(experiment: r.experiment, phase: r.phase, arm: r.armIndex, outputClass: c), default: 0] += 1 }
        }
        return totals.map { ($0.key, $0.value) }.sorted {
            ($0.key.experiment, $0.key.phase, $0.key.arm, $0.key.outputClass) < ($1.key.experiment, $1.key.phase, $1.key.arm, $1.key.outputClass)
        }
    }

    /// The rows, as a binary `COPY` stream for ``rowsStatement``.
    static func rows(_ rows: [DecisionClasses]) -> [UInt8] {
        var copy = PostgresBinaryCopy(capacity: rows.count * 96)
        for r in rows {
            copy.beginRow(fields: 5)
            copy.append(uuid: r.decisionID)
            copy.append(text: r.experiment)
            copy.append(int4: Int32(clamping: r.phase))
            copy.append(int4: Int32(clamping: r.armIndex))
            var array = PostgresBinaryArray(.int8, capacity: r.classes.count * 12)
            for c in r.classes { array.append(int8: c) }
            copy.append(array: array)
        }
        return copy.finished()
    }

    /// The counts, as a binary `COPY` stream for ``rollupStatement``.
    static func rollups(_ rows: [DecisionClasses]) -> [UInt8] {
        let counts = counts(rows)
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

    static let rowsStatement = """
        COPY switchboard.decision_classes (decision_id, experiment, phase, arm_index, classes) FROM STDIN (FORMAT binary)
        """

    static let rollupStatement = """
        COPY switchboard.class_rollups (experiment, phase, arm_index, class, output_rows) FROM STDIN (FORMAT binary)
        """
}
