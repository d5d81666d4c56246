import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers

/// What the group commit's thread does with one batch: claim its sticky units, write it in
/// one transaction, and if the log refuses the batch for its content (a row the checks
/// before queueing missed), write its rows again one by one, so only the bad row fails.
struct GroupCommitBatch: Sendable {
    let writer: any BatchWriter
    let units: any StickyUnits
    let counts: NIOLockedValueBox<GroupCommit.Statistics>
    let logger: Logger

    /// One result per row, in order. A decision whose claim failed is not written.
    func write(_ batch: [LogRow]) -> [Result<Written, any Error>] {
        var batch = batch
        let failed = StickyClaimStep.claim(&batch, in: units)
        var results: [Result<Written, any Error>?] = batch.indices.map { i in failed[i].map { .failure($0) } }
        let rows = batch.indices.filter { failed[$0] == nil }
        let started = ContinuousClock.now
        if !rows.isEmpty {
            switch writer.write(rows.map { batch[$0] }) {
            case .success(let written):
                for (i, w) in zip(rows, written) { results[i] = .success(w) }
            case .failure(let error) where error.code == .serverError && rows.count > 1:
                logger.warning("group commit refused; writing its rows one by one", metadata: ["rows": "\(rows.count)", "error": "\(error)"])
                for i in rows {
                    results[i] = writer.write([batch[i]]).map { $0[0] }.mapError { $0 }
                    if case .failure(let e) = results[i] { logger.error("a row was refused", metadata: ["error": "\(e)"]) }
                }
            case .failure(let error):
                logger.error("group commit failed", metadata: ["rows": "\(batch.count)", "error": "\(error)"])
                for i in rows { results[i] = .failure(error) }
            }
        }
        Recorder(label: MetricNames.groupCommitRows, aggregate: true).record(batch.count)
        Metrics.Timer(label: MetricNames.groupCommitSeconds).record(duration: ContinuousClock.now - started)
        counts.withLockedValue { s in
            s.batches += 1
            s.rows += batch.count
        }
        return results.map { $0 ?? .failure(StoreError(.unexpectedReply, store: .postgres, message: "the batch gave this row no result")) }
    }
}
