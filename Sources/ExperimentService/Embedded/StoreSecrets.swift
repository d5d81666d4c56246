import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The generated passwords of the embedded PostgreSQL and Redis, kept in
/// `<folder>/secrets` (mode 600) so a data folder keeps its passwords between runs.
struct StoreSecrets: Equatable {
    var postgres: String
    var redis: String

    /// Whether the file existed before (false: the secrets were made now).
    private(set) var existed = false

    /// Reads the secrets of `folder`, or makes new ones and writes them owner-only.
    static func load(folder: String) throws -> StoreSecrets {
        let path = folder + "/secrets"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            guard let postgres = values["postgres"], let redis = values["redis"], isValid(postgres), isValid(redis) else {
                throw EmbeddedStoreError("\(path) is not a secrets file of this version; move it away to make new passwords")
            }
            chmod(path, 0o600)
            var secrets = StoreSecrets(postgres: postgres, redis: redis)
            secrets.existed = true
            return secrets
        }
        let secrets = StoreSecrets(postgres: random(), redis: random())
        try writeOwnerOnly(path, "postgres=\(secrets.postgres)\nredis=\(secrets.redis)\n")
        return secrets
    }

    /// 32 random bytes as hex: safe in a URL, a config file and SQL without quoting.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func isValid(_ secret: String) -> Bool {
        secret.count == 64 && secret.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Writes `text` to `path` readable by its owner only (created with mode 600, never wider).
    static func writeOwnerOnly(_ path: String, _ text: String, owner: (uid: uid_t, gid: gid_t)? = nil) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EmbeddedStoreError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = text.withCString { write(fd, $0, strlen($0)) }
        if let owner { fchown(fd, owner.uid, owner.gid) }
        close(fd)
        guard written == text.utf8.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw EmbeddedStoreError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
