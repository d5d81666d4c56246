import Foundation
import NIOPosix
import PluginHost
import PluginSupport

/// Routes a prediction request to the model its experiment's policy picks.
///
/// The policy chooses an arm as for an assignment; the arm's model backend infers; the
/// decision is recorded only once inference succeeded, so rewards for predictions work as
/// for assignments. (With an in-process model, a returning unit that holds another arm than
/// the policy chose is told apart only when the decision is recorded: that arm's model then
/// infers too.) An ensemble policy (capability `ensemble`) picks a weighted set of arms:
/// their models infer (concurrently, unless all infer inline) and the policy combines
/// their first outputs. Each prediction's decision records the classes its model output
/// (``OutputClasses``), for the results' class distribution.
public struct PredictionService: Sendable {
    let assignments: AssignmentService
    let models: ModelService
    let cache: StatisticsCache
    let threadPool: NIOThreadPool

    public init(assignments: AssignmentService, models: ModelService, cache: StatisticsCache, threadPool: NIOThreadPool) {
        self.assignments = assignments
        self.models = models
        self.cache = cache
        self.threadPool = threadPool
    }

    /// A prediction: the assignment, the outputs, and for ensembles the arms combined.
    public struct Prediction: Sendable {
        public var assignment: AssignmentService.Assignment
        public var outputs: [Tensor]
        /// The arms whose models were combined, with their weights (nil for one model).
        public var ensemble: [(variant: String, weight: Double)]?
    }

    /// The most arms an ensemble combines.
    static let maxEnsemble = 8

    /// Predicts for `unit`: the policy chooses (``AssignmentService/choose(experiment:unit:context:sticky:)``),
    /// the model infers, and the decision is recorded only once inference succeeded
    /// (``AssignmentService/record(_:)``). When an adaptive experiment's unit is claimed
    /// depends on the model:
    /// - an ensemble's models are the set the policy picks, whatever arm the unit holds:
    ///   the claim goes with the group commit;
    /// - an in-process model infers in microseconds: it runs for the policy's choice, the
    ///   claim goes with the group commit, and for a returning unit that holds another arm
    ///   the held arm's model runs again (if that fails, the decision stays recorded; its
    ///   output classes follow the decision through the group commit, not awaited);
    /// - a model behind a thread or the network runs once, after a claim of its own has
    ///   said which arm the unit holds.
    /// With `sticky` false (a unit made up for this one request) nothing is claimed. A
    /// stream entry passes the decision id it derives (`StreamConsumer`).
    public func predict(experiment key: String, unit: String, context: [String: Double]?, inputs: [Tensor],
                        sticky: Bool = true, decisionID: UUID? = nil) async throws -> Prediction {
        var choice = try await assignments.choose(experiment: key, unit: unit, context: context, sticky: sticky)
        let experiment = choice.entry.experiment
        if Self.combines(choice.entry) {
            let (outputs, set) = try await ensemble(choice, inputs: inputs)
            let classes = OutputClasses.of(outputs)
            let assignment = try await assignments.record(choice, outputClasses: classes, decisionID: decisionID)
            if assignment.armIndex != choice.arm, let classes {
                // The combined outputs do not depend on the arm the unit holds.
                assignments.post(Self.classes(classes, of: assignment, choice))
            }
            return Prediction(assignment: assignment, outputs: outputs, ensemble: set)
        }
        var model = try await endpoint(experiment, arm: choice.arm)
        if choice.claim != nil && !model.plugin.inlineInfer {
            try await assignments.claimNow(&choice)
            model = try await endpoint(experiment, arm: choice.arm)
        }
        var outputs = try await infer(model, inputs)
        let assignment = try await assignments.record(choice, outputClasses: OutputClasses.of(outputs), decisionID: decisionID)
        if assignment.armIndex != choice.arm {
            outputs = try await infer(try await endpoint(experiment, arm: assignment.armIndex), inputs)
            if let classes = OutputClasses.of(outputs) { assignments.post(Self.classes(classes, of: assignment, choice)) }
        }
        return Prediction(assignment: assignment, outputs: outputs, ensemble: nil)
    }

    /// The classes of a decision recorded without them (they follow it, not awaited).
    static func classes(_ classes: [Int64], of assignment: AssignmentService.Assignment, _ choice: AssignmentService.Choice) -> DecisionClasses {
        DecisionClasses(decisionID: assignment.decisionID, experiment: assignment.experiment, phase: choice.entry.experiment.phase,
                        armIndex: assignment.armIndex, classes: classes)
    }

    /// Whether a prediction in this experiment combines several models: a running
    /// experiment whose policy is an ensemble.
    static func combines(_ entry: ExperimentCatalog.Entry) -> Bool {
        entry.policy.plugin.capabilities.contains(.ensemble) && entry.experiment.status == .running
    }

    /// The model behind an arm.
    func endpoint(_ experiment: Experiment, arm: Int) async throws -> ModelEndpoint {
        let armDefinition = experiment.arms[arm]
        guard let name = armDefinition.backend else {
            throw ServiceError.armWithoutBackend(experiment: experiment.key, arm: armDefinition.name, backend: nil)
        }
        do { return try await models.endpoint(name) } catch ServiceError.unknownBackend {
            throw ServiceError.armWithoutBackend(experiment: experiment.key, arm: armDefinition.name, backend: name)
        }
    }

    /// Infers (on a blocking thread unless the backend declares inline inference); inputs
    /// that do not fit the model's metadata are refused by `LoadedModel` before the plugin
    /// sees them.
    public func infer(_ endpoint: ModelEndpoint, _ inputs: [Tensor]) async throws -> [Tensor] {
        let name = endpoint.registration.name
        let model = endpoint.model
        // A backend that never blocks runs here; one that waits on I/O completes through its
        // callback; any other runs on a blocking thread.
        let result: Result<[Tensor], LoadedModel.InferError>
        if endpoint.plugin.asyncInfer {
            do throws(LoadedModel.InferError) { result = .success(try await model.inferAsync(inputs)) } catch { result = .failure(error) }
        } else if endpoint.plugin.inlineInfer {
            result = Self.inferNow(model, inputs)
        } else {
            result = try await threadPool.runIfActive { Self.inferNow(model, inputs) }
        }
        switch result {
        case .success(let outputs): return outputs
        case .failure(.mismatch(let m)): throw ServiceError.tensorMismatch(model: name, message: m.message)
        case .failure(.backend(let e)): throw ServiceError.inferenceFailed(model: name, message: e.message)
        }
    }

    /// One synchronous inference on this thread.
    static func inferNow(_ model: LoadedModel, _ inputs: [Tensor]) -> Result<[Tensor], LoadedModel.InferError> {
        do throws(LoadedModel.InferError) { return .success(try model.infer(inputs)) } catch { return .failure(error) }
    }

    /// Infers with every arm of the policy's set at once and combines the first outputs
    /// (as FP64, shaped like the first model's) with the policy's weights.
    func ensemble(_ chosen: AssignmentService.Choice, inputs: [Tensor]) async throws -> ([Tensor], [(variant: String, weight: Double)]) {
        let entry = chosen.entry
        let experiment = entry.experiment
        let policy = entry.policy
        let state = try await cache.statistics(experiment: experiment.key, length: policy.stateLength)
        let set: [(arm: Int, weight: Double)]
        do {
            set = try policy.chooseSet(state: state, context: chosen.vector,
                                       unitHash: StableHash.unitHash(salt: experiment.salt, unit: chosen.unit), seed: chosen.seed,
                                       time: Date().timeIntervalSince(experiment.createdAt), maxArms: min(Self.maxEnsemble, experiment.arms.count))
        } catch {
            throw ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
        var endpoints: [ModelEndpoint] = []
        for member in set { endpoints.append(try await endpoint(experiment, arm: member.arm)) }
        var outputs: [Int: [Tensor]] = [:]
        if endpoints.allSatisfy(\.plugin.inlineInfer) {
            // Microsecond models: one after the other costs less than child tasks.
            for (i, e) in endpoints.enumerated() { outputs[i] = try await infer(e, inputs) }
        } else {
            outputs = try await withThrowingTaskGroup(of: (Int, [Tensor]).self) { group in
                for (i, e) in endpoints.enumerated() { group.addTask { (i, try await infer(e, inputs)) } }
                return try await group.reduce(into: [Int: [Tensor]]()) { $0[$1.0] = $1.1 }
            }
        }
        let firsts = try (0..<endpoints.count).map { i -> Tensor in
            guard let first = outputs[i]?.first else {
                throw ServiceError.inferenceFailed(model: endpoints[i].registration.name, message: "it returned no outputs")
            }
            return first
        }
        let vectors = firsts.map { TensorPayload($0).data }
        guard vectors.allSatisfy({ $0.count == vectors[0].count }) else {
            throw ServiceError.inferenceFailed(model: endpoints.map(\.registration.name).joined(separator: "+"),
                                               message: "the ensemble's models give first outputs of different sizes (\(vectors.map(\.count)))")
        }
        let combined: [Double]
        do { combined = try policy.combine(outputs: vectors, weights: set.map(\.weight)) } catch {
            throw ServiceError.policyFailed(policy: policy.plugin.id, message: error.message)
        }
        let tensor = Tensor(name: firsts[0].name, datatype: .fp64, shape: firsts[0].shape, bytes: combined.withUnsafeBytes { Array($0) })
        return ([tensor], set.map { (experiment.arms[$0.arm].name, $0.weight) })
    }
}
