import Foundation

/// The API keys the service accepts, by scope. `client` keys may assign, reward and read;
/// `admin` keys may also manage experiments and plugins. With no keys at all (local
/// development) every request is accepted, and `serve` logs a warning at start.
public struct APIKeys: Sendable {
    /// What a key may do.
    public enum Scope: Int, Sendable, Comparable {
        case client = 1, admin = 2
        public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
    }

    let admin: [[UInt8]]
    let client: [[UInt8]]

    public init(admin: [String], client: [String]) {
        self.admin = admin.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.client = client.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// `SWITCHBOARD_ADMIN_KEYS` and `SWITCHBOARD_CLIENT_KEYS`, comma-separated.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> APIKeys {
        func list(_ name: String) -> [String] {
            (environment[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return APIKeys(admin: list("SWITCHBOARD_ADMIN_KEYS"), client: list("SWITCHBOARD_CLIENT_KEYS"))
    }

    /// True when no key is configured: authentication is off.
    public var isOpen: Bool { admin.isEmpty && client.isEmpty }

    /// The scope of `key`, or nil for an unknown key. Compares in constant time per key.
    func scope(of key: String) -> Scope? {
        let candidate = Array(key.utf8)
        var found: Scope?
        for k in admin where Self.equal(k, candidate) { found = .admin }
        if found == nil { for k in client where Self.equal(k, candidate) { found = .client } }
        return found
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
