@testable import ExperimentService
import Foundation
import Testing

/// `serve` refuses to listen beyond loopback with no API keys unless told `--insecure`.
@Suite("Open by default only on loopback")
struct ExposureTests {
    @Test("loopback addresses")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { #expect(ExposureCheck.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "::", "10.0.0.1", "127.0.0.1.example.com", "127.0.0.256", "example.com", ""] {
            #expect(!ExposureCheck.isLoopback(host), "\(host)")
        }
    }

    @Test("a non-loopback address needs admin and client keys, or --insecure")
    func refusal() {
        let none = APIKeys(admin: [], client: []), adminOnly = APIKeys(admin: ["a"], client: []), both = APIKeys(admin: ["a"], client: ["c"])
        #expect(ExposureCheck.refusal(host: "127.0.0.1", keys: none, insecure: false) == nil)
        #expect(ExposureCheck.refusal(host: "0.0.0.0", keys: none, insecure: false)?.contains("set SWITCHBOARD_ADMIN_KEYS and SWITCHBOARD_CLIENT_KEYS") == true)
        #expect(ExposureCheck.refusal(host: "0.0.0.0", keys: adminOnly, insecure: false)?.contains("set SWITCHBOARD_CLIENT_KEYS ") == true)
        #expect(ExposureCheck.refusal(host: "0.0.0.0", keys: both, insecure: false) == nil)
        #expect(ExposureCheck.refusal(host: "0.0.0.0", keys: none, insecure: true) == nil)
    }

    @Test("`switchboard serve --host 0.0.0.0` with no keys exits with the reason before starting anything")
    func serveRefuses() async throws {
        let binary = PredictionTests.root + "/.build/debug/switchboard"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the switchboard executable first")
        var environment = ProcessInfo.processInfo.environment
        environment["SWITCHBOARD_ADMIN_KEYS"] = nil
        environment["SWITCHBOARD_CLIENT_KEYS"] = nil
        let result = try await ChildRun.run(binary, ["serve", "--host", "0.0.0.0", "--port", "0"], environment: environment, timeout: .seconds(20))
        #expect(result.status != 0 && !result.timedOut)
        #expect(result.standardError.contains("refusing to listen on 0.0.0.0 without API keys"), "\(result.standardError)")
    }
}

extension Process {
    /// Waits for the process to end, at most `limit` (polling: Foundation's `waitUntilExit`
    /// spins the calling thread, and was seen never to return for a killed child).
    func exit(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Runs a program to its end (or kills it at `timeout`) and collects its standard error.
enum ChildRun {
    struct Result { var status: Int32; var timedOut: Bool; var standardError: String }

    static func run(_ path: String, _ arguments: [String], environment: [String: String], timeout: Duration) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        await process.exit(within: .seconds(10))
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Result(status: process.terminationStatus, timedOut: timedOut, standardError: text)
    }
}
