/// Writes a group-commit batch to PostgreSQL in one transaction, on a connection of its
/// own: decisions by binary `COPY` (``DecisionCopy``) with their sums for the rollups
/// (``RollupCopy``), predictions' output classes likewise (``ClassCopy``), rewards by two
/// statements that also append theirs (``RewardInsert``), and the transaction's id for
/// every row (shared statistics tagged with it can be checked against a rebuild's
/// snapshot). A batch without rewards is one query string (the id query and the `COPY`s),
/// one transaction, instead of BEGIN, id, COPY, COMMIT.
final class PostgresBatchWriter: BatchWriter {
    private let connection: PostgresConnection

    init(url: String) {
        connection = PostgresConnection(url: url)
    }

    func write(_ rows: [LogRow]) -> Result<[Written], StoreError> {
        var decisions: [Decision] = []
        var rewards: [RewardInsert.Row] = []
        var classes: [DecisionClasses] = []
        for row in rows {
            switch row {
            case .decision(let d, _):
                decisions.append(d)
                if let c = DecisionClasses(d) { classes.append(c) }
            case .reward(let r): rewards.append(RewardInsert.Row(r))
            case .classes(let c): classes.append(c)
            }
        }
        var streams: [[UInt8]] = [], copies: [String] = []
        if !decisions.isEmpty {
            streams += [DecisionCopy.rows(decisions), RollupCopy.rows(decisions)]
            copies += [DecisionCopy.statement, RollupCopy.statement]
        }
        if !classes.isEmpty {
            streams += [ClassCopy.rows(classes), ClassCopy.rollups(classes)]
            copies += [ClassCopy.rowsStatement, ClassCopy.rollupStatement]
        }
        let copy = copies.joined(separator: "; ")
        do throws(StoreError) {
            let (outcomes, commit): ([RewardOutcome], CommitID)
            if rewards.isEmpty {
                let results = try connection.copyIn("\(RollupCopy.transactionPrelude); \(copy)", streams: streams)
                (outcomes, commit) = ([], try Self.commitID(results.first?.rows.first?[0]))
            } else {
                (outcomes, commit) = try connection.transaction { conn throws(StoreError) -> ([RewardOutcome], CommitID) in
                    let commit = try Self.commitID(try conn.query(RollupCopy.transactionPrelude).rows.first?[0])
                    if !streams.isEmpty { _ = try conn.copyIn(copy, streams: streams) }
                    return (try RewardInsert.write(rewards, conn), commit)
                }
            }
            var nextOutcome = outcomes.makeIterator()
            return .success(rows.map { row in
                switch row {
                case .decision(let d, _): Written(commit: commit, decision: d)
                case .reward: Written(commit: commit, outcome: nextOutcome.next())
                case .classes: Written(commit: commit)
                }
            })
        } catch {
            return .failure(error)
        }
    }

    private static func commitID(_ text: String??) throws(StoreError) -> CommitID {
        guard let text = text ?? nil, let xid = UInt64(text) else {
            throw StoreError(.unexpectedReply, store: .postgres, message: "pg_current_xact_id() returned no transaction id")
        }
        return CommitID(xid)
    }
}
