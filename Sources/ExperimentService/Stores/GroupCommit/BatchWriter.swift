/// Writes a group-commit batch in one transaction of the decision log. Called only from
/// the group commit's thread, with blocking calls (a connection of its own).
public protocol BatchWriter: Sendable {
    /// Writes `rows` (their units claimed already) in one transaction; one result per row,
    /// in order, once `COMMIT` returned. A failure fails every row.
    func write(_ rows: [LogRow]) -> Result<[Written], StoreError>
}
