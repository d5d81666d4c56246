import ExperimentService

/// Writes a group-commit batch into an ``InMemoryRecord`` with the outcomes PostgreSQL
/// gives: a reward already stored with the same value is a duplicate, with another value a
/// conflict; a repeat inside the batch is judged against its first occurrence.
struct InMemoryBatchWriter: BatchWriter {
    let record: InMemoryRecord

    func write(_ rows: [LogRow]) -> Result<[Written], StoreError> {
        do throws(StoreError) {
            return .success(try record.transaction { t throws(StoreError) -> [Written] in
                var written: [Written] = []
                for row in rows {
                    switch row {
                    case .decision(let d, _):
                        try t.insert(d)
                        if let c = DecisionClasses(d) { t.insert(c) }
                        written.append(Written(commit: t.commit, decision: d))
                    case .classes(let c):
                        t.insert(c)
                        written.append(Written(commit: t.commit))
                    case .reward(let r):
                        let outcome: RewardOutcome
                        if let stored = t.reward(.init(decision: r.decisionID, metric: r.metric)) {
                            outcome = stored.value == r.value ? .duplicate : .conflict(existing: stored.value)
                        } else {
                            try t.insert(r)
                            outcome = .recorded
                        }
                        written.append(Written(commit: t.commit, outcome: outcome))
                    }
                }
                return written
            })
        } catch {
            return .failure(error)
        }
    }
}
