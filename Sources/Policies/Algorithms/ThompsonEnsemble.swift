import PluginSupport

/// An ensemble policy: Thompson sampling (Beta posteriors) picks the top `k` arms of one
/// posterior draw, and their outputs are combined by `mean`, `weighted_mean` (weights ∝
/// posterior mean reward) or `majority` (each output votes for its largest entry; the
/// result is the share of votes per entry). A single-arm `choose` is plain Thompson sampling.
///
/// Config: `k` (1...arms, default 2), `combine` ("weighted_mean"), `prior_alpha`,
/// `prior_beta` (1, 1), `samples` (1000). State: per arm (successes, failures).
public struct ThompsonEnsemble: EnsemblePolicy {
    public static let name = "ensemble"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.ensemble, .threadSafe, .costlyProbabilities]

    public enum Combination: String, Sendable { case mean, weightedMean = "weighted_mean", majority }

    let thompson: ThompsonBernoulli
    let k: Int
    public let combination: Combination

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["k", "combine", "prior_alpha", "prior_beta", "samples"])
        var inner = setup
        inner.config.values = setup.config.values.filter { ["prior_alpha", "prior_beta", "samples"].contains($0.key) }
        thompson = try ThompsonBernoulli(setup: inner)
        k = try setup.config.integer("k", default: min(2, setup.armCount), in: 1...setup.armCount)
        combination = Combination(rawValue: try setup.config.choice(
            "combine", default: "weighted_mean", in: ["mean", "weighted_mean", "majority"]))!
    }

    public var stateLength: Int { thompson.stateLength }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        try thompson.choose(state: state, request: request, probabilities: probabilities)
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        try thompson.update(state: state, request: request, delta: delta)
    }

    public func chooseSet(state: UnsafeBufferPointer<Double>, request: ChooseRequest, maxArms: Int) throws(PolicyError) -> [(arm: Int, weight: Double)] {
        try PolicyMath.requireFinite(state, "the state")
        var rng = SplitMix64(seed: request.seed)
        let draws = (0..<thompson.arms).map { thompson.draw(state, $0, &rng) }
        let count = max(1, min(k, maxArms))
        let top = draws.indices.sorted { draws[$0] > draws[$1] }.prefix(count)
        let raw = top.map { arm -> Double in
            switch combination {
            case .weightedMean:
                let s = state[2 * arm], f = state[2 * arm + 1]
                return (thompson.alpha + s) / (thompson.alpha + thompson.beta + s + f)
            case .mean, .majority:
                return 1
            }
        }
        let total = raw.reduce(0, +)
        return zip(top, raw).map { ($0, $1 / total) }
    }

    public func combine(outputs: [UnsafeBufferPointer<Double>], weights: [Double], into out: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        guard !outputs.isEmpty, outputs.count == weights.count else {
            throw PolicyError(.invalidArgument, "combine needs one weight per output and at least one output")
        }
        for o in outputs where o.count != out.count {
            throw PolicyError(.invalidArgument, "combine needs outputs of equal length \(out.count); got \(o.count)")
        }
        for i in out.indices { out[i] = 0 }
        switch combination {
        case .mean, .weightedMean:
            let w = combination == .mean ? weights.map { _ in 1 / Double(weights.count) } : weights
            let total = w.reduce(0, +)
            guard total > 0, total.isFinite else { throw PolicyError(.invalidArgument, "combine weights must sum to a positive number") }
            for (o, wi) in zip(outputs, w) {
                for i in out.indices { out[i] += o[i] * wi / total }
            }
        case .majority:
            guard out.count > 0 else { return }
            for o in outputs {
                var best = 0
                for i in o.indices where o[i] > o[best] { best = i }
                out[best] += 1 / Double(outputs.count)
            }
        }
        try PolicyMath.requireFinite(UnsafeBufferPointer(out), "the combined output")
    }
}
