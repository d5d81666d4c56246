import Foundation

/// Whether `serve` may listen where it is told to: open to every request (no API keys)
/// only on a loopback address, unless the operator says `--insecure`.
public enum ExposureCheck {
    /// True for `localhost`, `127.0.0.0/8` and `::1`: addresses only this machine reaches.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Why `serve` refuses to listen on `host` with `keys`, or nil if it may. A non-loopback
    /// address needs both admin and client keys (else admin routes, or every route, would
    /// be open to the network); `insecure` overrides the check.
    public static func refusal(host: String, keys: APIKeys, insecure: Bool) -> String? {
        guard !insecure, !isLoopback(host) else { return nil }
        var missing: [String] = []
        if keys.admin.isEmpty { missing.append("SWITCHBOARD_ADMIN_KEYS") }
        if keys.client.isEmpty { missing.append("SWITCHBOARD_CLIENT_KEYS") }
        guard !missing.isEmpty else { return nil }
        return "refusing to listen on \(host) without API keys: set \(missing.joined(separator: " and ")) "
            + "(comma-separated secrets), listen on 127.0.0.1, or pass --insecure to serve every request unauthenticated"
    }
}
