import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data folder (`flock` on `<folder>/switchboard.lock`), held for
/// the life of the process, so two switchboards never share one embedded database.
final class DataFolderLock: @unchecked Sendable {
    private var fd: Int32

    /// Takes the lock or throws a one-line error naming the process that holds it.
    init(folder: String) throws {
        let path = folder + "/switchboard.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EmbeddedStoreError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw EmbeddedStoreError("the data folder \(folder) is in use by another switchboard process (PID \(holder)); stop it or choose another folder with --data-dir")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Releases the lock.
    func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
