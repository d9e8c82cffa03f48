import Foundation
import Testing

/// `reckon sync` ends by logging its own CPU time and peak memory (getrusage of the process, and
/// of the sacct children apart): tools/bench/daemon-scale reads it to measure an idle tick.
@Suite(.serialized) struct ProcessResourcesTests {
    @Test func syncLogsItsOwnResourceUsageLast() async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let r = try await h.reckon("sync", ["--log-format", "json"])
        #expect(r.status == 0, "\(r.all)")
        let last = try #require(r.stderr.split(separator: "\n").last.map(String.init))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(doc["message"] as? String == "process resources")
        func number(_ key: String) -> Double? { (doc[key] as? String).flatMap(Double.init) }
        let user = try #require(number("cpu_user_seconds")), system = try #require(number("cpu_system_seconds"))
        let total = try #require(number("cpu_seconds")), children = try #require(number("children_cpu_seconds"))
        let rss = try #require(number("max_rss_kib"))
        #expect(user > 0 && system >= 0 && children >= 0 && rss > 0)
        #expect(abs(total - (user + system)) < 0.000_002)
    }
}
