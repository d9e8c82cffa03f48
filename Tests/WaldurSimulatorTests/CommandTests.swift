import Foundation
import Synchronization
import Testing
import WaldurSimulator

/// `reckon waldur-sim`'s library entry point: announces `listening on http://127.0.0.1:PORT`
/// first, serves on that port, and stops when its task is cancelled.
@Suite struct CommandTests {
    @Test func announcesListeningLineThenServes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waldur-sim-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let seedPath = directory.appendingPathComponent("seed.yaml").path
        try SeedTests.documentedExample.write(toFile: seedPath, atomically: true, encoding: .utf8)

        let lines = Mutex<[String]>([])
        let task = Task {
            try await runWaldurSimulatorCommand(seedPath: seedPath, timeZone: "UTC", faultsJSON: #"{"latency_ms": 1}"#,
                                                announce: { line in lines.withLock { $0.append(line) } })
        }
        var waited = 0
        while lines.withLock({ $0.isEmpty }), waited < 5000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 10
        }
        let first = try #require(lines.withLock { $0.first })
        let prefix = "listening on http://127.0.0.1:"
        #expect(first.hasPrefix(prefix))
        let port = try #require(Int(first.dropFirst(prefix.count)))
        #expect(port > 0)

        try await SimProbe.with(baseURL: "http://127.0.0.1:\(port)") { harness in
            let answer = try await harness.get("/api/users/me/", token: "fedcba9876543210fedcba9876543210fedcba98")
            #expect(answer.status == 200)
            #expect(answer.object["is_staff"] as? Bool == true)
        }

        task.cancel()
        _ = await task.result
        #expect(lines.withLock { $0.count } == 1)
    }

    @Test func badSeedFailsWithItsPath() async {
        await #expect {
            try await runWaldurSimulatorCommand(seedPath: "/nonexistent/seed.yaml", announce: { _ in })
        } throws: { error in
            "\(error)".contains("/nonexistent/seed.yaml")
        }
    }
}
