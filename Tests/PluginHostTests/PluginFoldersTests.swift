import Foundation
import PluginHost
import Testing

@Suite("Plugin folders")
struct PluginFoldersTests {
    /// A temporary tree: <root>/plugins/good.so, <root>/outside.so, <root>/plugins/escape.so -> ../outside.so
    static func makeTree() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-folders-\(UUID())").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/plugins/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/plugins-other", withIntermediateDirectories: true)
        for file in ["/plugins/good.so", "/plugins/sub/nested.so", "/outside.so", "/plugins-other/x.so"] {
            #expect(fm.createFile(atPath: root + file, contents: Data([0x7f])))
        }
        try fm.createSymbolicLink(atPath: root + "/plugins/escape.so", withDestinationPath: "../outside.so")
        return root
    }

    @Test("a file inside a folder resolves to its real path")
    func inside() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = PluginFolders([root + "/plugins"])
        #expect(try folders.resolve(root + "/plugins/good.so").hasSuffix("/plugins/good.so"))
        #expect(try folders.resolve(root + "/plugins/sub/../sub/nested.so").hasSuffix("/plugins/sub/nested.so"))
    }

    @Test("paths that escape the folder are refused: .., symbolic links, sibling prefixes")
    func escapes() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = PluginFolders([root + "/plugins"])
        for path in ["/plugins/../outside.so", "/plugins/escape.so", "/plugins-other/x.so", "/outside.so"] {
            #expect(throws: PluginFolders.Refusal.self, "\(path)") { try folders.resolve(root + path) }
        }
    }

    @Test("missing files and folders are refused with a clear reason")
    func missing() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = PluginFolders([root + "/plugins"])
        #expect(throws: PluginFolders.Refusal.notFound(path: root + "/plugins/none.so")) { try folders.resolve(root + "/plugins/none.so") }
        #expect { try folders.resolve(root + "/plugins/sub") } throws: { "\($0)".contains("is not a regular file") }
    }
}
