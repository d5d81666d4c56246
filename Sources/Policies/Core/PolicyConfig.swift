import Foundation
import PluginSupport

/// A policy's JSON configuration object, with typed accessors that produce precise errors.
public struct PolicyConfig: Sendable {
    /// A JSON value (shared with the host, in `PluginSupport`).
    public typealias Value = JSONValue

    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) {
        self.values = values
    }

    /// Parses a JSON object; an empty text means `{}`.
    public init(json: String) throws(PolicyError) {
        let text = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { self.init(); return }
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(text.utf8)) else {
            throw .config("the policy config is not valid JSON")
        }
        guard case .object(let object) = value else { throw .config("the policy config must be a JSON object") }
        self.init(object)
    }

    /// Refuses keys other than `allowed` (a typo should not silently fall back to a default).
    public func onlyKeys(_ allowed: Set<String>) throws(PolicyError) {
        for key in values.keys.sorted() where !allowed.contains(key) {
            let list = allowed.sorted().joined(separator: ", ")
            throw .config("unknown config key '\(key)'" + (allowed.isEmpty ? "; this policy takes no config" : "; allowed: \(list)"))
        }
    }

    /// A number in `range`, or `defaultValue` when absent.
    public func number(_ key: String, default defaultValue: Double, in range: ClosedRange<Double>) throws(PolicyError) -> Double {
        guard let value = values[key] else { return defaultValue }
        guard case .number(let n) = value, n.isFinite else { throw .config("'\(key)' must be a number") }
        guard range.contains(n) else { throw .config("'\(key)' must be between \(range.lowerBound) and \(range.upperBound); got \(n)") }
        return n
    }

    /// A number greater than zero, or `defaultValue` when absent.
    public func positive(_ key: String, default defaultValue: Double) throws(PolicyError) -> Double {
        guard let value = values[key] else { return defaultValue }
        guard case .number(let n) = value, n.isFinite, n > 0 else { throw .config("'\(key)' must be a number > 0") }
        return n
    }

    /// A whole number in `range`, or `defaultValue` when absent.
    public func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(PolicyError) -> Int {
        guard let value = values[key] else { return defaultValue }
        guard case .number(let n) = value, n.rounded() == n, let i = Int(exactly: n), range.contains(i) else {
            throw .config("'\(key)' must be a whole number between \(range.lowerBound) and \(range.upperBound)")
        }
        return i
    }

    /// One of `choices`, or `defaultValue` when absent.
    public func choice(_ key: String, default defaultValue: String, in choices: [String]) throws(PolicyError) -> String {
        guard let value = values[key] else { return defaultValue }
        guard case .string(let s) = value, choices.contains(s) else {
            throw .config("'\(key)' must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return s
    }

    /// A boolean, or `defaultValue` when absent.
    public func bool(_ key: String, default defaultValue: Bool) throws(PolicyError) -> Bool {
        guard let value = values[key] else { return defaultValue }
        guard case .bool(let b) = value else { throw .config("'\(key)' must be true or false") }
        return b
    }
}
