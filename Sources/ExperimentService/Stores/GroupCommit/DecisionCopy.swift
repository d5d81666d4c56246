/// A batch of decisions as PostgreSQL's binary `COPY` format: PostgreSQL stores the batch
/// with its multi-row heap insert and parses nothing (no number, UUID or array text is
/// formatted here or parsed there).
enum DecisionCopy {
    /// A batch of decisions as a binary `COPY` stream for ``statement``.
    static func rows(_ decisions: [Decision]) -> [UInt8] {
        var copy = PostgresBinaryCopy(capacity: decisions.count * 160)
        for d in decisions {
            copy.beginRow(fields: 10)
            copy.append(uuid: d.id)
            copy.append(text: d.experiment)
            copy.append(int4: Int32(d.armIndex))
            copy.append(text: d.unit)
            copy.append(float8: d.propensity)
            if let context = d.context { copy.append(jsonb: JSONText.object(context)) } else { copy.appendNull() }
            copy.append(text: d.policy)
            copy.append(int8: Int64(bitPattern: d.seed))
            if let p = d.probabilities {
                var array = PostgresBinaryArray(.float8, capacity: p.count * 12)
                for value in p { array.append(float8: value) }
                copy.append(array: array)
            } else {
                copy.appendNull()
            }
            copy.append(int4: Int32(clamping: d.phase))
        }
        return copy.finished()
    }

    /// Decisions arrive by `COPY`: PostgreSQL stores a batch with its multi-row heap insert
    /// and parses nothing (see ``rows(_:)``).
    static let statement = """
        COPY switchboard.decisions (id, experiment, arm_index, unit, propensity, context, policy, seed, probabilities, phase)
        FROM STDIN (FORMAT binary)
        """
}
