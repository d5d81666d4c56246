extension StoredStatistics {
    /// Parses an `HGETALL` of a statistics hash: fields `epoch`, `snapshot` and one per
    /// statistic index (absent = 0).
    static func parse(_ reply: RedisReply, length: Int) -> StoredStatistics {
        guard case .array(let items) = reply, !items.isEmpty else { return .missing }
        var values = [Double](repeating: 0, count: length)
        var epoch: String?, snapshot: DatabaseSnapshot?
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard let field = items[i].text, let value = items[i + 1].text else { continue }
            switch field {
            case "epoch": epoch = value
            case "snapshot": snapshot = DatabaseSnapshot(value)
            default:
                // Range-checked: Double("inf") parses, and the policy must never see it.
                if let index = Int(field), values.indices.contains(index) {
                    guard let v = Double(value), v.isFinite else { return .corrupt(reason: "statistic \(index) is '\(value.prefix(32))'") }
                    values[index] = v
                }
            }
        }
        guard let epoch else { return .missing }
        if epoch.hasPrefix(fencePrefix) { return .rebuilding }
        guard let snapshot else { return .missing }
        return .ready(epoch: epoch, snapshot: snapshot, values: values)
    }
}
