import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plugin file read once: its SHA-256 and the path to `dlopen`. Policy and backend
/// libraries follow the same rules: an expected digest must match, and with a cache
/// folder the library is opened from a copy named after its content
/// (`<stem>-<sha256 prefix>.so`), so `dlopen` of a replaced file never returns the old
/// code and old and new versions run side by side.
struct PluginFile {
    /// SHA-256 of the file, lowercase hex.
    let sha256: String
    /// What to pass to `dlopen`.
    let openPath: String

    enum Failure: Error {
        case unreadable(String)
        case digestMismatch(actual: String)
    }

    init(path: String, expectedSHA256: String?, cacheFolder: String?) throws(Failure) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(error.localizedDescription)
        }
        sha256 = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        if let expected = expectedSHA256?.lowercased(), expected != sha256 { throw .digestMismatch(actual: sha256) }
        guard let cacheFolder else {
            openPath = path
            return
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let copy = "\(cacheFolder)/\(stem)-\(sha256.prefix(16)).so"
        if !FileManager.default.fileExists(atPath: copy) {
            do {
                try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
                let temporary = copy + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                try data.write(to: URL(fileURLWithPath: temporary))
                guard rename(temporary, copy) == 0 else { throw CocoaError(.fileWriteUnknown) }
            } catch {
                throw .unreadable("cannot copy it to \(cacheFolder): \(error.localizedDescription)")
            }
        }
        openPath = copy
    }
}
