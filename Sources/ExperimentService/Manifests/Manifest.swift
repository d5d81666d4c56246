import Foundation
import PluginSupport
import Yams

/// One declared object of an experiments-as-files folder (`switchboard apply -f`): an
/// experiment (the body of `POST /v1/experiments`), a policy library or a model backend
/// (the bodies of `POST /v1/policies` and `POST /v1/backends`), with where it was written.
/// Files are YAML or JSON (JSON is read as YAML); a file may hold several documents
/// separated by `---`; `kind` is `Experiment` (the default), `Policy` or `Backend`.
public enum Manifest: Sendable {
    case experiment(ExperimentSpec, Source)
    case policy(PolicyLibraryRegistration, Source)
    case backend(BackendRegistration, Source)

    /// Where a document starts: file and line.
    public struct Source: Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var description: String { "\(file):\(line)" }
    }

    public var source: Source {
        switch self {
        case .experiment(_, let s), .policy(_, let s), .backend(_, let s): s
        }
    }

    /// What the document declares, for messages: `experiment checkout-color`.
    public var name: String {
        switch self {
        case .experiment(let spec, _): "experiment \(spec.key)"
        case .policy(let p, _): "policy library \(p.path)"
        case .backend(let b, _): "backend \(b.name)"
        }
    }
}

/// A file that cannot be applied, with the file, line and field at fault.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        (self.file, self.line, self.field, self.message) = (file, line, field, message)
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(field.map { "field '\($0)' " } ?? "")\(message)"
    }
}

/// Reads manifests from files and folders (folders: their `.yaml`, `.yml` and `.json`
/// files, recursively, in name order). Every document is decoded and its experiment
/// checked as the service would check it, so a bad file fails before anything is applied.
public enum ManifestLoader {
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    public static func load(_ paths: [String]) throws -> [Manifest] {
        var manifests: [Manifest] = []
        for file in try files(paths) { manifests += try load(file: file) }
        var keys: [String: Manifest.Source] = [:]
        for case .experiment(let spec, let source) in manifests {
            if let first = keys[spec.key] {
                throw ManifestError(file: source.file, line: source.line, field: "key", message: "repeats experiment '\(spec.key)', declared at \(first)")
            }
            keys[spec.key] = source
        }
        return manifests
    }

    /// The files `paths` name, folders expanded.
    static func files(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw ManifestError(file: path, line: nil, field: nil, message: "does not exist")
            }
            guard isFolder.boolValue else { files.append(path); continue }
            let found = (fm.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            files += found.map { (path as NSString).appendingPathComponent($0) }
        }
        return files
    }

    /// The documents of one file.
    public static func load(file: String) throws -> [Manifest] {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ManifestError(file: file, line: nil, field: nil, message: "cannot be read as UTF-8 text")
        }
        return try parse(text, file: file)
    }

    /// The documents of a text.
    public static func parse(_ text: String, file: String) throws -> [Manifest] {
        var manifests: [Manifest] = []
        do {
            var documents = try Yams.compose_all(yaml: text)
            while let node = documents.next() { manifests.append(try manifest(node, file: file)) }
            if let error = documents.error { throw error }  // the sequence keeps a parse error instead of throwing it
        } catch let error as YamlError {
            throw ManifestError(file: file, line: line(of: error).line, field: nil, message: "is not valid YAML or JSON: \(line(of: error).problem)")
        }
        return manifests
    }

    static func manifest(_ node: Node, file: String) throws -> Manifest {
        let source = Manifest.Source(file: file, line: node.mark?.line ?? 1)
        guard node.mapping != nil else {
            throw ManifestError(file: file, line: source.line, field: nil, message: "each document must be a mapping (an experiment, policy or backend)")
        }
        var body = node
        let kind = node["kind"]?.string ?? "Experiment"
        if case .mapping(let mapping) = node {
            let pairs = mapping.filter { $0.key.string != "kind" }.map { ($0.key, $0.value) }
            body = .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        }
        switch kind {
        case "Experiment":
            let spec = try decode(ExperimentSpec.self, body, file: file)
            // A file may declare any status but deleted; creation takes running or draft.
            var created = spec
            if let status = spec.status, ![.running, .draft].contains(status) {
                guard status != .deleted else {
                    throw ManifestError(file: file, line: line(at: "status", in: node) ?? source.line, field: "status",
                                        message: "cannot be 'deleted' in a file: delete an experiment with DELETE /v1/experiments/\(spec.key)")
                }
                created.status = nil
            }
            // An exported experiment lists its retired arms; creation takes none (they are retired after).
            for i in created.arms.indices { created.arms[i].retired = false }
            do { _ = try created.validated(defaultSalt: "check") } catch {
                let (path, reason) = Self.parts(of: error)
                throw ManifestError(file: file, line: line(at: path, in: node) ?? source.line, field: path, message: reason)
            }
            return .experiment(spec, source)
        case "Policy": return .policy(try decode(PolicyLibraryRegistration.self, body, file: file), source)
        case "Backend": return .backend(try decode(BackendRegistration.self, body, file: file), source)
        default:
            throw ManifestError(file: file, line: node["kind"]?.mark?.line ?? source.line, field: "kind",
                                message: "must be Experiment, Policy or Backend; got '\(kind.prefix(40))'")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ node: Node, file: String) throws -> T {
        do { return try YAMLDecoder().decode(type, from: node) } catch let error as DecodingError {
            let described = JSONBody.describe(error)
            let (path, reason) = parts(of: described)
            throw ManifestError(file: file, line: line(at: path, in: node) ?? node.mark?.line, field: path, message: reason)
        }
    }

    /// A service refusal as (field path, reason).
    static func parts(of error: ServiceError) -> (String?, String) {
        switch error {
        case .invalidField(let path, let reason): (path, reason)
        default: (nil, error.description)
        }
    }

    /// The line of the node at a field path such as `arms[1].weight` (or of its nearest parent).
    static func line(at path: String?, in root: Node) -> Int? {
        guard let path else { return nil }
        var node = root, line = root.mark?.line
        for part in path.split(separator: ".") {
            var name = Substring(part), indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            guard let child = node[String(name)] else { return line }
            node = child
            line = child.mark?.line ?? line
            for i in indices {
                guard let sequence = node.sequence, sequence.indices.contains(i) else { return line }
                node = sequence[i]
                line = node.mark?.line ?? line
            }
        }
        return line
    }

    /// Where a YAML error is, and what it is.
    static func line(of error: YamlError) -> (line: Int?, problem: String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _): (mark.line, problem)
        default: (nil, "\(error)")
        }
    }
}
