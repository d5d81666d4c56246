import Foundation
import Testing

/// Builds and finds the plugins the tests load.
enum TestPlugins {
    /// The repository root (this file is Tests/PluginHostTests/Support/TestPlugins.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../..").standardizedFileURL.path

    /// The build folder holding the test binary, the switchboard executable and the built-in library.
    static let buildFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path

    static var builtInLibrary: String { buildFolder + "/libSwitchboardPolicies.so" }
    static var switchboard: String { buildFolder + "/switchboard" }

    /// A fresh temporary folder.
    static func folder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "switchboard-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Compiles a C source of the repository into `folder/<output>` with `cc -shared -fPIC -fvisibility=hidden`.
    @discardableResult
    static func compile(_ source: String, into folder: String, as output: String, defines: [String] = [],
                        libraries: [String] = []) throws -> String {
        let path = "\(folder)/\(output)"
        var arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-O1", "-Wall", "-Werror", "-I", root + "/Sources/SwitchboardABI/include"]
        arguments += defines.map { "-D" + $0 }
        arguments += ["-o", path, root + "/" + source] + libraries.map { "-l" + $0 } + ["-lm"]
        let result = try run("/usr/bin/cc", arguments)
        try #require(result.status == 0, "cc failed: \(result.output)")
        return path
    }

    /// The fixture plugin with some of its -D variants.
    @discardableResult
    static func fixture(_ defines: [String], in folder: String, as output: String? = nil) throws -> String {
        let stem = (defines.first ?? "fixture").lowercased().filter { $0.isLetter || $0 == "_" }
        return try compile("Tests/Fixtures/plugins/broken_plugin.c", into: folder, as: output ?? "lib\(stem).so", defines: defines)
    }

    /// Runs a program and returns its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, signaled: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), process.terminationReason == .uncaughtSignal)
    }
}
