import Hummingbird
import NIOCore

extension Problem {
    /// The problem response for any error thrown while handling a request.
    /// Unknown errors become a 500 that hides internals (they are logged instead).
    static func from(_ error: any Error) -> Problem? {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ServiceError:
            return from(error)
        case let error as StoreError where error.code == .unavailable:
            return Problem(.serviceUnavailable, code: "store-unavailable", title: "A data store is unavailable",
                           // No host, port or user: the store's own message goes to the log only.
                           detail: "\(error.store.rawValue) is unreachable; retry shortly", retryAfter: 1)
        case let error as HTTPError:
            return Problem(error.status, code: "http-\(error.status.code)", title: error.status.reasonPhrase,
                           detail: error.body ?? defaultDetail(error.status))
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, code: "body-too-large", title: "Request body too large",
                           detail: "the request body is larger than the limit of \(JSONBody.maxBytes) bytes")
        default:
            return nil
        }
    }

    static func from(_ error: ServiceError) -> Problem {
        let detail = error.description
        switch error {
        case .malformedJSON:
            return Problem(.badRequest, code: "malformed-json", title: "Malformed JSON", detail: detail)
        case .invalidField:
            return Problem(.unprocessableContent, code: "invalid-field", title: "Invalid field", detail: detail)
        case .unknownExperiment:
            return Problem(.notFound, code: "unknown-experiment", title: "Unknown experiment", detail: detail)
        case .experimentExists:
            return Problem(.conflict, code: "experiment-exists", title: "Experiment already exists", detail: detail)
        case .experimentDeleted:
            return Problem(.gone, code: "experiment-deleted", title: "Experiment deleted", detail: detail)
        case .experimentReadOnly:
            return Problem(.conflict, code: "experiment-read-only", title: "Experiment is read-only", detail: detail)
        case .concurrentChange:
            return Problem(.conflict, code: "concurrent-change", title: "Concurrent change", detail: detail)
        case .undeclaredMetric:
            return Problem(.unprocessableContent, code: "undeclared-metric", title: "Undeclared metric", detail: detail)
        case .unknownDecision:
            return Problem(.notFound, code: "unknown-decision", title: "Unknown decision", detail: detail)
        case .unknownModelVersion:
            return Problem(.notFound, code: "unknown-model-version", title: "Unknown model version", detail: detail)
        case .targetingKeyMissing:
            return Problem(.badRequest, code: "targeting-key-missing", title: "Targeting key missing", detail: detail)
        case .unsupportedContentEncoding:
            return Problem(.unsupportedMediaType, code: "unsupported-content-encoding", title: "Unsupported content encoding", detail: detail)
        case .rewardConflict:
            return Problem(.conflict, code: "reward-conflict", title: "Conflicting reward", detail: detail)
        case .unknownPolicy:
            return Problem(.unprocessableContent, code: "unknown-policy", title: "Unknown policy", detail: detail)
        case .invalidPolicyConfig:
            return Problem(.unprocessableContent, code: "invalid-policy-config", title: "Invalid policy config", detail: detail)
        case .policyUnavailable:
            return Problem(.serviceUnavailable, code: "policy-unavailable", title: "Policy not loaded", detail: detail)
        case .pluginQuarantined:
            return Problem(.serviceUnavailable, code: "plugin-quarantined", title: "Plugin switched off after a crash", detail: detail)
        case .policyRefused:
            return Problem(.unprocessableContent, code: "policy-refused", title: "Policy refused the request", detail: detail)
        case .policyFailed:
            return Problem(.internalServerError, code: "policy-failed", title: "Policy failed", detail: detail)
        case .pluginRefused:
            return Problem(.unprocessableContent, code: "plugin-refused", title: "Plugin refused", detail: detail)
        case .overloaded:
            return Problem(.serviceUnavailable, code: "overloaded", title: "Overloaded", detail: detail, retryAfter: 1)
        case .invalidTransition:
            return Problem(.conflict, code: "invalid-transition", title: "Invalid lifecycle change", detail: detail)
        case .notStarted:
            return Problem(.conflict, code: "not-started", title: "Experiment not started", detail: detail)
        case .invalidContext:
            return Problem(.unprocessableContent, code: "invalid-context", title: "Invalid context", detail: detail)
        case .unknownBackend:
            return Problem(.notFound, code: "unknown-backend", title: "Unknown model backend", detail: detail)
        case .backendRefused:
            return Problem(.unprocessableContent, code: "backend-refused", title: "Model backend refused", detail: detail)
        case .tensorMismatch:
            return Problem(.unprocessableContent, code: "invalid-tensor", title: "Tensors do not fit the model", detail: detail)
        case .armWithoutBackend:
            return Problem(.conflict, code: "arm-without-backend", title: "Arm has no model backend", detail: detail)
        case .inferenceFailed:
            return Problem(.badGateway, code: "inference-failed", title: "Inference failed", detail: detail)
        }
    }

    private static func defaultDetail(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no route matches this method and path"
        case .methodNotAllowed: "this path does not accept this method"
        default: status.reasonPhrase
        }
    }
}
