/// A request the service refuses, with a stable code and a message precise enough to
/// fix the request. The HTTP edge maps each case to a problem response.
public enum ServiceError: Error, Equatable, CustomStringConvertible {
    /// The body is not JSON at all.
    case malformedJSON(String)
    /// A field is missing, mistyped or out of range.
    case invalidField(path: String, reason: String)
    case unknownExperiment(key: String)
    case experimentExists(key: String)
    case unknownDecision(id: String)
    case rewardConflict(decisionID: String, metric: String, existing: Double, sent: Double)
    case unknownPolicy(name: String)

    public var description: String {
        switch self {
        case .malformedJSON(let detail): "the request body is not valid JSON: \(detail)"
        case .invalidField(let path, let reason): "field '\(path)' \(reason)"
        case .unknownExperiment(let key): "no experiment has the key '\(key)'"
        case .experimentExists(let key): "an experiment with the key '\(key)' already exists"
        case .unknownDecision(let id): "no decision has the id '\(id)'"
        case .rewardConflict(let id, let metric, let existing, let sent):
            "decision '\(id)' already has reward \(existing) for metric '\(metric)'; \(sent) was not stored"
        case .unknownPolicy(let name):
            "policy '\(name)' is not registered; no policy plugins are loaded yet, so omit 'policy' to use the weighted hash split"
        }
    }
}
