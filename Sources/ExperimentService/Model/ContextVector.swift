/// Turns a request's named context features into the ordered vector a policy sees.
enum ContextVector {
    /// The largest context value accepted: contextual policies multiply features
    /// (LinUCB's outer products), and their statistics must stay finite.
    static let maxMagnitude = 1e12

    /// The values of `features`, in order. Every declared feature must be present and no
    /// other may be sent; each must be finite.
    static func make(_ context: [String: Double]?, features: [String]) throws(ServiceError) -> [Double] {
        let context = context ?? [:]
        for (name, value) in context.sorted(by: { $0.key < $1.key }) {
            guard features.contains(name) else {
                let declared = features.isEmpty ? "this experiment declares no context features" : "declared: \(features.joined(separator: ", "))"
                throw .invalidContext("context has the unknown feature '\(name)'; \(declared)")
            }
            guard value.isFinite, abs(value) <= maxMagnitude else {
                throw .invalidContext("context feature '\(name)' must be a finite number within ±1e12; got \(value)")
            }
        }
        return try features.map { name throws(ServiceError) in
            guard let value = context[name] else { throw .invalidContext("context is missing the feature '\(name)'") }
            return value
        }
    }
}
