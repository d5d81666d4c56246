import Policies
import SwitchboardABI

/// The object behind a config pointer: one configured policy. The C thunks call it;
/// subclasses are generic over the policy type, so each call is one virtual dispatch
/// into specialised code.
class PolicyBox {
    var stateLength: Int { 0 }
    func initialize(_ state: UnsafeMutableBufferPointer<Double>) {}
    func choose(_ state: UnsafeBufferPointer<Double>, _ request: ChooseRequest,
                _ probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int { 0 }
    func update(_ state: UnsafeBufferPointer<Double>, _ request: UpdateRequest,
                _ delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {}
    func chooseSet(_ state: UnsafeBufferPointer<Double>, _ request: ChooseRequest, _ maxArms: Int) throws(PolicyError) -> [(arm: Int, weight: Double)] {
        throw PolicyError(.internalError, "not an ensemble policy")
    }
    func combine(_ outputs: [UnsafeBufferPointer<Double>], _ weights: [Double], _ out: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        throw PolicyError(.internalError, "not an ensemble policy")
    }
    /// The arm count and context dimension the policy was configured with.
    let arms: Int
    let contextDimension: Int
    init(arms: Int, contextDimension: Int) {
        self.arms = arms
        self.contextDimension = contextDimension
    }
}

class TypedPolicyBox<P: Policy>: PolicyBox {
    let policy: P
    init(_ policy: P, setup: PolicySetup) {
        self.policy = policy
        super.init(arms: setup.armCount, contextDimension: setup.contextDimension)
    }
    override var stateLength: Int { policy.stateLength }
    override func initialize(_ state: UnsafeMutableBufferPointer<Double>) { policy.initialize(state: state) }
    override func choose(_ state: UnsafeBufferPointer<Double>, _ request: ChooseRequest,
                         _ probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        try policy.choose(state: state, request: request, probabilities: probabilities)
    }
    override func update(_ state: UnsafeBufferPointer<Double>, _ request: UpdateRequest,
                         _ delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        try policy.update(state: state, request: request, delta: delta)
    }
}

final class EnsemblePolicyBox<P: EnsemblePolicy>: TypedPolicyBox<P> {
    override func chooseSet(_ state: UnsafeBufferPointer<Double>, _ request: ChooseRequest, _ maxArms: Int) throws(PolicyError) -> [(arm: Int, weight: Double)] {
        try policy.chooseSet(state: state, request: request, maxArms: maxArms)
    }
    override func combine(_ outputs: [UnsafeBufferPointer<Double>], _ weights: [Double], _ out: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        try policy.combine(outputs: outputs, weights: weights, into: out)
    }
}
