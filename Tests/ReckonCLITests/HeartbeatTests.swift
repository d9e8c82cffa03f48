import Foundation
import Testing

/// The heartbeat file (`reckon.heartbeat_file`, default `<state_dir>/heartbeat`) holds the epoch of
/// the last tick, after a daemon tick and after `reckon sync` (the cron alternative) alike.
@Suite(.serialized) struct HeartbeatTests {
    @Test func syncWritesTheHeartbeatAsADaemonTickDoes() async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let beat = h.stateDir + "/heartbeat"
        #expect(!FileManager.default.fileExists(atPath: beat))
        let sync = try await h.reckon("sync")
        #expect(sync.status == 0, "\(sync.all)")
        // --now is CLIHarness.now, 2026-11-27T12:00:00Z: `date -u -d 2026-11-27T12:00:00Z +%s` is 1795780800.
        #expect(try String(contentsOfFile: beat, encoding: .utf8) == "1795780800\n")
        // A configured path is used instead, and a failed tick is a tick too.
        let elsewhere = h.stateDir + "-beat"
        try h.writeConfig(extraReckon: "heartbeat_file: \"\(elsewhere)\"", binDir: "/nonexistent/slurm/bin")
        let failing = try await h.reckon("sync")
        #expect(failing.status == 1, "\(failing.all)")
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "1795780800\n")
        try? FileManager.default.removeItem(atPath: elsewhere)
    }
}
