#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The folders plugins may be loaded from, and the check that a requested file lies
/// inside one of them.
///
/// A plugin path usually arrives in a request, so it is never trusted: it is resolved
/// with `realpath` (following every symbolic link and `..`) and must then lie strictly
/// inside a configured folder, which is resolved the same way.
public struct PluginFolders: Sendable {
    /// Why a path was refused.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notFound(path: String)
        case outsideFolders(path: String, folders: [String])
        case notARegularFile(path: String)
        case notAFolder(path: String)

        public var description: String {
            switch self {
            case .notFound(let path): "plugin file '\(path)' does not exist"
            case .outsideFolders(let path, let folders):
                "plugin file '\(path)' is outside the plugin folders (\(folders.joined(separator: ", ")))"
            case .notARegularFile(let path): "plugin path '\(path)' is not a regular file"
            case .notAFolder(let path): "model path '\(path)' is not a folder"
            }
        }
    }

    /// The configured folders, resolved to absolute real paths. Missing folders are dropped.
    public let folders: [String]

    /// - Parameter folders: folder paths, absolute or relative to the working directory.
    public init(_ folders: [String]) {
        self.folders = folders.compactMap(Self.realPath)
    }

    /// Resolves `path` (relative paths are taken from the working directory) and returns
    /// its real path if it is a regular file inside one of the folders.
    public func resolve(_ path: String) throws(Refusal) -> String {
        guard let real = Self.realPath(path) else { throw .notFound(path: path) }
        guard folders.contains(where: { real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw .outsideFolders(path: path, folders: folders)
        }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        return real
    }

    /// Resolves `path` and returns its real path if it is a folder inside one of the
    /// folders (a model folder, for instance).
    public func resolveFolder(_ path: String) throws(Refusal) -> String {
        guard let real = Self.realPath(path) else { throw .notFound(path: path) }
        guard folders.contains(where: { real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw .outsideFolders(path: path, folders: folders)
        }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw .notAFolder(path: path) }
        return real
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
