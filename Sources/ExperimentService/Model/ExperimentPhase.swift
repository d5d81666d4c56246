/// A phase of an experiment: the first starts at creation, each change
/// (`PATCH /v1/experiments/{key}`) starts the next. Decisions record their phase, so
/// results can be read per phase.
public struct ExperimentPhase: Codable, Sendable, Equatable {
    public var phase: Int
    /// When it started, `YYYY-MM-DDTHH:MM:SSZ`.
    public var startedAt: String
    /// What changed, comma-separated: `created`, or some of `weights`, `arms`, `policy`,
    /// `metrics`, `analysis`.
    public var change: String

    public init(phase: Int, startedAt: String, change: String) { (self.phase, self.startedAt, self.change) = (phase, startedAt, change) }

    enum CodingKeys: String, CodingKey {
        case phase, change
        case startedAt = "started_at"
    }
}

extension Experiment {
    /// The phase a `?phase=N` query asks for: nil (every phase) when absent or empty,
    /// otherwise one of the experiment's phases, or a 422 naming the range.
    public func phase(fromQuery text: String?) throws(ServiceError) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard let n = Int(text), (1...phase).contains(n) else {
            throw .invalidField(path: "phase", reason: "must be a phase of the experiment, 1 to \(phase); got '\(text)'")
        }
        return n
    }
}
