import Hummingbird
import Logging

/// Turns every error thrown by a route (or by routing itself) into an
/// `application/problem+json` response (on `/v2` routes, the Open Inference Protocol's
/// error shape, ``InferenceProtocolError``; on `/ofrep` routes, OFREP's,
/// ``FlagEvaluationError``). Errors with no known mapping become a 500
/// whose detail hides internals; the error itself is logged.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem: Problem
            if let known = Problem.from(error) {
                problem = known
                if problem.statusCode >= 500 {
                    context.logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                }
            } else {
                context.logger.error("unexpected error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                problem = Problem(.internalServerError, code: "internal", title: "Internal error",
                                  detail: "the server failed to handle this request; the error was logged")
            }
            if InferenceProtocolError.applies(to: request.uri.path) {
                return InferenceProtocolError(problem).response()
            }
            if FlagEvaluationError.applies(to: request.uri.path) {
                return FlagEvaluationError(problem, path: request.uri.path).response()
            }
            return try problem.response(from: request, context: context)
        }
    }
}
