import Foundation
@testable import PluginHost
import Logging
import Testing

/// What the backend ABI 2.0 loader refuses, and what the header makes the compiler refuse.
@Suite("Loading model-backend libraries: ABI 2.0")
struct BackendLibraryLoaderTests {
    static let services = PluginHostServices(logger: Logger(label: "backend-loader-tests"))

    @Test("a backend library of the old major, or built by another Swift toolchain, is refused with a message that says so",
          arguments: [
              (["WRONG_MAJOR"], "is built for backend ABI major version 1; this host speaks version 2"),
              (["FOREIGN_TAG"], "was built by another Swift toolchain (swift-0.1-x86_64-linux; this host is"),
          ])
    func refused(defines: [String], message: String) throws {
        let folder = try TestPlugins.folder("broken-backend")
        let path = try TestPlugins.compile("Tests/Fixtures/plugins/broken_backend.c", into: folder, as: "lib\(defines[0].lowercased()).so",
                                           defines: defines)
        #expect {
            _ = try BackendLibraryLoader(services: Self.services).load(path: path)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("the headers declare the entry points: a definition with another signature does not compile")
    func entryPrototypes() throws {
        let folder = try TestPlugins.folder("wrong-entry")
        for (header, entry) in [("switchboard_policy.h", "const sb_policy_library *switchboard_policy_library_v2(void)"),
                                ("switchboard_backend.h", "const sb_backend_library *switchboard_backend_library_v2(void)")] {
            let source = folder + "/wrong.c"
            try "#include \"\(header)\"\n\(entry) { return 0; }\n".write(toFile: source, atomically: true, encoding: .utf8)
            let result = try TestPlugins.run("/usr/bin/cc", ["-fsyntax-only", "-I", TestPlugins.root + "/Sources/SwitchboardABI/include", source])
            #expect(result.status != 0 && result.output.contains("conflicting types"), "\(header): \(result.output)")
        }
    }
}
