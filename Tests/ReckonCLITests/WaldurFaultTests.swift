import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WaldurSimulator

/// Issue 7, faults outside reckon: Waldur. Under every fault of the simulator the daemon keeps
/// running (its tick ends, the heartbeat is written, SIGTERM stops it cleanly), the client backs
/// off and retries what is safe to retry, and reckon converges to the exact desired values.
@Suite(.serialized) struct WaldurFaultTests {
    static let writePaths = ["/api/marketplace-component-usages/set_usage/", "/api/marketplace-component-usages/{uuid}/set_user_usages/"]

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let faults: SimulatorFaults
        /// A status (or "dropped") the simulator must have answered, proving the fault was hit (nil: any).
        let evidence: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "5xx then success (retried with backoff)",
             faults: SimulatorFaults(paths: writePaths, script: [.init(kind: "status", status: 503), .init(kind: "status", status: 502)]),
             evidence: "503"),
        Case(name: "500 (not retried: ambiguous, read back)",
             faults: SimulatorFaults(paths: writePaths, script: [.init(kind: "status", status: 500)]), evidence: "500"),
        Case(name: "429 with Retry-After", faults: SimulatorFaults(paths: writePaths, script: [.init(kind: "rate_limit", retryAfterSeconds: 1)]),
             evidence: "429"),
        Case(name: "5xx on reads", faults: SimulatorFaults(paths: ["/api/marketplace-component-usages/"], script: [.init(kind: "status", status: 503)]),
             evidence: "503"),
        Case(name: "latency on every request", faults: SimulatorFaults(latencyMilliseconds: 100), evidence: "201"),
        Case(name: "applied, then the connection dropped",
             faults: SimulatorFaults(paths: writePaths, script: [.init(kind: "drop_after_write"), .init(kind: "drop_after_write")]),
             evidence: "dropped"),
        Case(name: "a random mix", faults: SimulatorFaults(errorRate: 0.2, errorStatuses: [502, 503], rateLimitRate: 0.1, retryAfterSeconds: 1,
                                                         latencyMilliseconds: 5, dropAfterWriteRate: 0.2, seed: 7),
             evidence: nil),
    ]

    @Test(arguments: cases)
    func theDaemonKeepsRunningUnderAWaldurFaultAndConverges(c: Case) async throws {
        let h = try CLIHarness()
        let sim = try await h.startSimulator(faults: c.faults)
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let daemon = try h.spawn("daemon")
        try await waitFor(h.stateDir + "/heartbeat", while: daemon)
        #expect(daemon.isRunning, "the daemon stopped after a tick under \(c.name)")
        daemon.signal(SIGTERM)
        let stopped = await daemon.finished()
        #expect(stopped.status == 0 && !stopped.signalled, "\(stopped.all)")
        let statuses = try await requestStatuses(sim)
        if let evidence = c.evidence {
            #expect(statuses.values.contains { $0[evidence, default: 0] > 0 }, "the fault was not exercised: \(statuses)")
        }

        // Faults cleared: the next daemon start settles whatever was left and converges exactly.
        try await sim.setFaults(.none)
        try FileManager.default.removeItem(atPath: h.stateDir + "/heartbeat")
        let second = try h.spawn("daemon")
        try await waitFor(h.stateDir + "/heartbeat", while: second)
        second.signal(SIGTERM)
        #expect(await second.finished().status == 0)
        try await expectConverged(h)
    }

    @Test func aRevokedTokenGivesA401TheDaemonLivesOnAndRecoversWithTheToken() async throws {
        let h = try CLIHarness()
        var sim = try await h.startSimulator()
        let port = sim.port
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let first = try await h.reckon("sync")
        #expect(first.status == 0, "\(first.all)")
        // The token is revoked: the same Waldur (same port, same stored data) no longer knows it.
        await h.stopSimulator()
        sim = try await h.startSimulator(seedToken: "revoked0replacement0token000000000000000", port: port)
        let dump = try String(contentsOfFile: h.dumpPath, encoding: .utf8)
        try CLIHarness.write(dump.replacingOccurrences(of: "|1795746504|1795746512|8|00:00:00|billing=4",
                                                      with: "|1795746504|1795746612|108|00:00:00|billing=4"), to: h.dumpPath)
        try? FileManager.default.removeItem(atPath: h.stateDir + "/heartbeat")
        let daemon = try h.spawn("daemon")
        try await waitFor(h.stateDir + "/heartbeat", while: daemon)
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        let r = await daemon.finished()
        #expect(r.status == 0)
        #expect(r.stderr.contains("Invalid token") || r.stderr.contains("401"), "\(r.stderr)")
        #expect(!r.all.contains(h.token))
        let statuses = try await requestStatuses(sim)
        #expect(statuses.values.contains { $0["401", default: 0] > 0 })
        // The sacct poll of that tick was kept even though Waldur refused us.
        #expect(h.count("job_run_observed", in: try await h.events()) == 15)
        // The token is back: converges.
        await h.stopSimulator()
        try await h.startSimulator(port: port)
        let sync = try await h.reckon("sync")
        #expect(sync.status == 0, "\(sync.all)")
        try await expectConverged(h)
    }

    func requestStatuses(_ sim: WaldurSimulator) async throws -> [String: [String: Int]] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: sim.baseURL + "/_sim/requests")!)
        let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return doc?["statuses"] as? [String: [String: Int]] ?? [:]
    }

    func expectConverged(_ h: CLIHarness) async throws {
        let stored = try await h.storedTotals()
        let desired = try await h.desiredTotals()
        #expect(!desired.isEmpty)
        #expect(stored == desired)
        let plan = try await h.reckon("plan", ["--json"])
        #expect(plan.status == 0 && plan.stdout.isEmpty, "\(plan.all)")
        let events = try await h.events()
        let intents = Set(events.filter { $0["kind"] as? String == "submission_intended" }.compactMap { $0["seq"] as? Int })
        let settled = Set(events.filter { $0["kind"] as? String == "submission_confirmed" }
            .compactMap { ($0["payload"] as? [String: Any])?["intent"] as? Int })
        #expect(intents.subtracting(settled).isEmpty, "unsettled intents: \(intents.subtracting(settled).sorted())")
    }
}
