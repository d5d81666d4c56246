/// A request the service refuses, with a stable code and a message precise enough to
/// fix the request. The HTTP edge maps each case to a problem response.
public enum ServiceError: Error, Equatable, CustomStringConvertible {
    /// The body is not JSON at all.
    case malformedJSON(String)
    /// A field is missing, mistyped or out of range.
    case invalidField(path: String, reason: String)
    case unknownExperiment(key: String)
    case experimentExists(key: String)
    /// The experiment was deleted: its results are kept, it assigns nothing, its key is taken.
    case experimentDeleted(key: String)
    /// Archived and deleted experiments cannot be changed.
    case experimentReadOnly(key: String, status: String)
    case undeclaredMetric(experiment: String, metric: String, declared: [String])
    /// Another change of the same experiment committed first.
    case concurrentChange(key: String)
    case unknownDecision(id: String)
    case rewardConflict(decisionID: String, metric: String, existing: Double, sent: Double)
    case unknownPolicy(name: String, version: String?, registered: [String])
    case invalidPolicyConfig(policy: String, message: String)
    /// The experiment's policy is not loaded in this process.
    case policyUnavailable(policy: String)
    /// The plugin library behind a policy or model crashed a server and is switched off.
    case pluginQuarantined(plugin: String, reason: String)
    /// A policy refused a request's input (a reward out of its range, a bad context).
    case policyRefused(policy: String, message: String)
    /// A policy failed (a numeric problem, a bug in the plugin).
    case policyFailed(policy: String, message: String)
    case pluginRefused(String)
    /// The service is saturated; the client should retry shortly.
    case overloaded(String)
    case invalidContext(String)
    case invalidTransition(key: String, action: String, status: String)
    /// The experiment is a draft and assigns nothing yet.
    case notStarted(key: String)
    /// No model backend is registered (and active) under this name.
    case unknownBackend(name: String)
    /// A backend registration was refused (path, library or model).
    case backendRefused(String)
    /// The request's tensors do not fit the model.
    case tensorMismatch(model: String, message: String)
    /// The chosen arm has no model backend (or it is not registered).
    case armWithoutBackend(experiment: String, arm: String, backend: String?)
    /// The backend failed to infer.
    case inferenceFailed(model: String, message: String)
    /// An Open Inference Protocol route named a version the model does not have (its one
    /// version is its experiment's phase).
    case unknownModelVersion(model: String, version: String, current: Int)
    /// The body is compressed; bodies are taken as sent.
    case unsupportedContentEncoding(String)
    /// An OpenFeature evaluation context without a `targetingKey` (the unit).
    case targetingKeyMissing

    public var description: String {
        switch self {
        case .malformedJSON(let detail): "the request body is not valid JSON: \(detail)"
        case .invalidField(let path, let reason): "field '\(path)' \(reason)"
        case .unknownExperiment(let key): "no experiment has the key '\(key)'"
        case .experimentExists(let key): "an experiment with the key '\(key)' already exists"
        case .experimentDeleted(let key):
            "experiment '\(key)' was deleted: it assigns nothing and its key cannot be used again (its decisions and rewards are kept)"
        case .experimentReadOnly(let key, let status): "experiment '\(key)' is \(status) and cannot be changed"
        case .concurrentChange(let key):
            "experiment '\(key)' was changed by another request meanwhile; read it again and retry"
        case .undeclaredMetric(let experiment, let metric, let declared):
            "experiment '\(experiment)' declares no metric '\(metric)'; its metrics: \(declared.joined(separator: ", "))"
        case .unknownDecision(let id): "no decision has the id '\(id)'"
        case .unknownModelVersion(let model, let version, let current):
            "model '\(model)' has no version '\(version)'; its version is \(current), its experiment's phase"
        case .targetingKeyMissing:
            "the evaluation context has no targetingKey; it names the unit to assign"
        case .unsupportedContentEncoding(let encoding):
            "the body is sent with Content-Encoding '\(encoding.prefix(40))'; send it uncompressed"
        case .rewardConflict(let id, let metric, let existing, let sent):
            "decision '\(id)' already has reward \(existing) for metric '\(metric)'; \(sent) was not stored"
        case .unknownPolicy(let name, let version, let registered):
            "policy '\(name)\(version.map { "@\($0)" } ?? "")' is not registered; registered policies: \(registered.joined(separator: ", "))"
        case .invalidPolicyConfig(let policy, let message): "policy \(policy) refused its config: \(message)"
        case .policyUnavailable(let policy): "policy \(policy) is not loaded in this process; register its plugin again (POST /v1/policies)"
        case .pluginQuarantined(let plugin, let reason):
            "\(plugin) is switched off: \(reason); an admin can register its library again (POST /v1/policies or /v1/backends) to switch it back on"
        case .policyRefused(let policy, let message): "policy \(policy) refused the request: \(message)"
        case .policyFailed(let policy, let message): "policy \(policy) failed: \(message)"
        case .pluginRefused(let message): message
        case .overloaded(let reason): "the service is overloaded (\(reason)); retry shortly"
        case .invalidContext(let message): message
        case .invalidTransition(let key, let action, let status):
            "cannot \(action) experiment '\(key)': it is \(status)\(status == "stopped" ? " (a stopped experiment keeps its results and cannot run again)" : "")"
        case .notStarted(let key): "experiment '\(key)' is a draft; start it with POST /v1/experiments/\(key)/start"
        case .unknownBackend(let name): "no model backend is registered as '\(name)' (POST /v1/backends registers one)"
        case .backendRefused(let message): message
        case .tensorMismatch(let model, let message): "model '\(model)': \(message)"
        case .armWithoutBackend(let experiment, let arm, let backend):
            if let backend {
                "arm '\(arm)' of experiment '\(experiment)' routes to model backend '\(backend)', which is not registered"
            } else {
                "arm '\(arm)' of experiment '\(experiment)' has no model backend; set 'backend' on every arm to predict"
            }
        case .inferenceFailed(let model, let message): "model '\(model)' failed to infer: \(message)"
        }
    }
}
