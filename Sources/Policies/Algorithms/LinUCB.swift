import PluginSupport

/// LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010): per arm a ridge
/// regression of reward on the context; choose the arm maximising θᵀx + α·sqrt(xᵀA⁻¹x).
///
/// Each arm keeps A = λI + Σ x xᵀ and b = Σ r x, both additive. A⁻¹x is found with one
/// Cholesky factorisation and two triangular solves per arm, so no inverse is stored.
///
/// Config: `alpha` > 0 (exploration, default 1), `lambda` > 0 (ridge, default 1),
/// `intercept` (default true: a constant 1 feature is appended to the context).
/// State: per arm A (m×m, row-major) then b (m), m = context dimension (+1).
public struct LinUCB: Policy {
    public static let name = "linucb"
    public static let version = "1"
    public static let capabilities: PolicyCapabilities = [.contextual, .threadSafe]
    let arms: Int
    let features: Int
    let m: Int
    let alpha: Double
    let lambda: Double
    let intercept: Bool

    public init(setup: PolicySetup) throws(PolicyError) {
        try setup.config.onlyKeys(["alpha", "lambda", "intercept"])
        guard setup.contextDimension > 0 else {
            throw .config("linucb is contextual: declare context_features on the experiment")
        }
        arms = setup.armCount
        features = setup.contextDimension
        alpha = try setup.config.positive("alpha", default: 1)
        lambda = try setup.config.positive("lambda", default: 1)
        intercept = try setup.config.bool("intercept", default: true)
        m = features + (intercept ? 1 : 0)
    }

    var armStride: Int { m * m + m }
    public var stateLength: Int { arms * armStride }

    public func initialize(state: UnsafeMutableBufferPointer<Double>) {
        for a in 0..<arms {
            for i in 0..<m { state[a * armStride + i * m + i] = lambda }
        }
    }

    /// Copies the context into `x`, appending the intercept.
    func fill(_ x: UnsafeMutableBufferPointer<Double>, from context: UnsafeBufferPointer<Double>) throws(PolicyError) {
        guard context.count == features else {
            throw PolicyError(.invalidArgument, "linucb expects \(features) context values; got \(context.count)")
        }
        for i in 0..<features {
            guard context[i].isFinite else { throw PolicyError(.invalidArgument, "context value \(i) is not finite") }
            x[i] = context[i]
        }
        if intercept { x[features] = 1 }
    }

    /// The UCB score of `arm` for `x`, using `scratch` (m·m + 2m doubles).
    func score(_ state: UnsafeBufferPointer<Double>, arm: Int, x: UnsafeMutableBufferPointer<Double>,
               scratch: UnsafeMutableBufferPointer<Double>) throws(PolicyError) -> Double {
        let base = arm * armStride
        let L = scratch
        let z = UnsafeMutableBufferPointer(rebasing: scratch[(m * m)..<(m * m + m)])
        let w = UnsafeMutableBufferPointer(rebasing: scratch[(m * m + m)..<(m * m + 2 * m)])
        // Cholesky: A = L Lᵀ (lower triangle of L).
        for i in 0..<m {
            for j in 0...i {
                var s = state[base + i * m + j]
                for k in 0..<j { s -= L[i * m + k] * L[j * m + k] }
                if i == j {
                    guard s > 0, s.isFinite else {
                        throw PolicyError(.numeric, "linucb: arm \(arm)'s matrix is not positive definite")
                    }
                    L[i * m + i] = s.squareRoot()
                } else {
                    L[i * m + j] = s / L[j * m + j]
                }
            }
        }
        // L z = x, then Lᵀ w = z: w = A⁻¹x and z·z = xᵀA⁻¹x.
        for i in 0..<m {
            var s = x[i]
            for k in 0..<i { s -= L[i * m + k] * z[k] }
            z[i] = s / L[i * m + i]
        }
        for i in stride(from: m - 1, through: 0, by: -1) {
            var s = z[i]
            for k in (i + 1)..<m { s -= L[k * m + i] * w[k] }
            w[i] = s / L[i * m + i]
        }
        var mean = 0.0
        var variance = 0.0
        for i in 0..<m {
            mean += state[base + m * m + i] * w[i]
            variance += z[i] * z[i]
        }
        return mean + alpha * variance.squareRoot()
    }

    public func choose(state: UnsafeBufferPointer<Double>, request: ChooseRequest,
                       probabilities: UnsafeMutableBufferPointer<Double>?) throws(PolicyError) -> Int {
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: m * m + 3 * m + arms) { buffer throws(PolicyError) -> Int in
            let x = UnsafeMutableBufferPointer(rebasing: buffer[0..<m])
            let scratch = UnsafeMutableBufferPointer(rebasing: buffer[m..<(m * m + 3 * m)])
            let scores = UnsafeMutableBufferPointer(rebasing: buffer[(m * m + 3 * m)...])
            try fill(x, from: request.context)
            for a in 0..<arms { scores[a] = try score(state, arm: a, x: x, scratch: scratch) }
            var rng = SplitMix64(seed: request.seed)
            let (arm, _, best) = PolicyMath.argmaxBreakingTies(arms, &rng) { scores[$0] }
            if let p = probabilities { PolicyMath.uniform(over: arms, into: p) { scores[$0] == best } }
            return arm
        }
    }

    public func update(state: UnsafeBufferPointer<Double>, request: UpdateRequest,
                       delta: UnsafeMutableBufferPointer<Double>) throws(PolicyError) {
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: m) { x throws(PolicyError) in
            try fill(x, from: request.context)
            let base = request.arm * armStride
            for i in 0..<m {
                for j in 0..<m { delta[base + i * m + j] = x[i] * x[j] }
                delta[base + m * m + i] = request.reward * x[i]
            }
        }
    }
}
