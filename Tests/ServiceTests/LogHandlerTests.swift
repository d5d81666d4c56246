import ExperimentService
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// The service's log handler: `StreamLogHandler`'s output, metadata formatted only when
/// a line is written.
@Suite("Log lines carry the logger's and the call's metadata")
struct LogHandlerTests {
    final class Lines: TextOutputStream, @unchecked Sendable {
        let text = NIOLockedValueBox("")
        func write(_ string: String) { text.withLockedValue { $0 += string } }
    }

    @Test("metadata set on the logger and given with the call are both written, the call's winning; levels filter")
    func metadata() {
        let lines = Lines()
        var logger = Logger(label: "test") { label in
            DeferredMetadataLogHandler(StreamLogHandler(label: label, stream: lines, metadataProvider: nil))
        }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "42"
        logger[metadataKey: "route"] = "assign"
        logger.debug("not written")
        logger.info("hello", metadata: ["route": "predict", "n": "1"])
        logger[metadataKey: "route"] = nil
        logger.error("bye")
        let written = lines.text.withLockedValue { $0 }.split(separator: "\n").map(String.init)
        #expect(written.count == 2)
        #expect(written.first?.contains("info test: hb.request.id=42 n=1 route=predict [") == true)
        #expect(written.first?.hasSuffix("] hello") == true)
        #expect(written.last?.contains("error test: hb.request.id=42 [") == true && written.last?.hasSuffix("] bye") == true)
    }
}
