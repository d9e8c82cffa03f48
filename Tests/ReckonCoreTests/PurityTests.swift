import Foundation
import Testing

/// The core must stay pure: no file or process I/O, no clock reads, no storage or network
/// modules. This test reads the core's sources and fails on any forbidden construct, so the
/// rule in ARCHITECTURE.md cannot erode silently.
@Suite struct PurityTests {
    static let forbidden = ["Date()", "Date.now", "FileManager", "FileHandle", "ProcessInfo", "Process(", "fopen(", "open(",
                            "import ReckonLMDB", "import CLMDB", "import ReckonSacct", "import ReckonEngine", "import ReckonConfig",
                            "import AsyncHTTPClient", "import NIO", "import Dispatch", "DispatchQueue", "URLSession",
                            "getenv", "time(nil)", "gettimeofday", "clock_gettime"]

    @Test func coreHasNoIOAndNoClock() throws {
        let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/ReckonCore")
        let files = try FileManager.default.contentsOfDirectory(atPath: core.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        for f in files {
            let text = try String(contentsOf: core.appendingPathComponent(f), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for bad in Self.forbidden where code.contains(bad) {
                    Issue.record("\(f):\(n + 1) uses \(bad) in the pure core")
                }
            }
        }
    }
}
