/// The step of a group-commit batch before its transaction: the units of the batch's
/// sticky decisions are claimed in one round trip (``StickyUnits``), and each returning
/// unit's decision takes the arm it holds (``StickyRule``).
enum StickyClaimStep {
    /// Claims in place; returns the rows whose claim failed (by index) with the error their
    /// callers get. The rest of the batch is written as usual.
    static func claim(_ batch: inout [LogRow], in units: any StickyUnits) -> [Int: any Error] {
        var rows: [Int] = [], claims: [(decision: Decision, claim: StickyClaim)] = []
        for (i, row) in batch.enumerated() {
            if case .decision(let d, let claim?) = row {
                rows.append(i)
                claims.append((d, claim))
            }
        }
        guard !rows.isEmpty else { return [:] }
        do {
            let held = try units.claimBlocking(claims.map { ($0.decision, $0.claim.ttlSeconds) })
            for ((i, item), held) in zip(zip(rows, claims), held) {
                batch[i] = .decision(StickyRule.apply(held, to: item.decision, arms: item.claim.arms), item.claim)
            }
            return [:]
        } catch {
            return Dictionary(uniqueKeysWithValues: rows.map { ($0, error) })
        }
    }
}
