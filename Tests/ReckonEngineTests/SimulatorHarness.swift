import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonLMDB
import ReckonWaldur
import WaldurSimulator

/// A Waldur simulator on loopback plus a reckon ledger (real LMDB in a temp directory) and the
/// configuration that connects them, for end-to-end reconciler tests.
struct SimulatorHarness {
    static let offering = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
    static let customer = "c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f"
    static let providerToken = "prov0123456789abcdef0123456789abcdef0123"
    static let staffToken = "staff123456789abcdef0123456789abcdef0123"
    static let resources = ["hpc_alloc_a": "10a0f810be1c43bbb651e8cbdbb90198", "hpc_alloc_b": "20a0f810be1c43bbb651e8cbdbb90198",
                            "hpc_alloc_c": "30a0f810be1c43bbb651e8cbdbb90198", "PHYSICS": "40a0f810be1c43bbb651e8cbdbb90198"]
    /// 2026-11-27T12:00:00Z, after the fixture's jobs.
    static let now: EpochSeconds = 1_795_780_800

    let sim: WaldurSimulator
    let ledger: Ledger
    let offering: OfferingConfiguration
    let config: ReckonConfiguration
    let directory: String

    static let defaultUsers = ["alice", "bob", "carol"]

    /// The simulator's seed: the offering with cpu, mem and gres/gpu usage components, one
    /// resource per (backend_id, uuid) and one offering user per cluster user.
    static func seedYAML(resources: [(backend: String, uuid: String)], users: [String]) -> String {
        var s = """
        users:
          - {token: \(providerToken), username: reporter, service_provider_for: [\(customer)]}
          - {token: \(staffToken), username: admin, is_staff: true}
        offerings:
          - uuid: \(offering)
            customer_uuid: \(customer)
            name: HPC
            service_provider_can_create_offering_user: true
            components:
              - {type: cpu, billing_type: usage, measured_unit: CPU-minutes}
              - {type: mem, billing_type: usage, measured_unit: GiB-minutes}
              - {type: gres/gpu, billing_type: usage, measured_unit: GPU-minutes}
        resources:

        """
        for (b, u) in resources {
            s += "  - {uuid: \(u), offering_uuid: \(offering), backend_id: \(b), state: OK, name: \(b.lowercased())}\n"
        }
        s += "offering_users:\n"
        for (i, user) in users.enumerated() {
            s += "  - {uuid: \(String(format: "3e2d1c0b9a8f7e6d5c4b3a29180706%02x", i)), offering_uuid: \(offering), username: \(user), user_username: \(user)@example.org}\n"
        }
        return s
    }

    static func start(token: String = providerToken,
                      resources: [(backend: String, uuid: String)] = Self.resources.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) },
                      users: [String] = defaultUsers) async throws -> SimulatorHarness {
        let sim = try await WaldurSimulator.start(seed: try SimulatorSeed(yaml: seedYAML(resources: resources, users: users)))
        await sim.setNow(Date(timeIntervalSince1970: TimeInterval(now)))
        let dir = NSTemporaryDirectory() + "reckon-test-" + UUID().uuidString
        let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
        let ledger = try Ledger(store: try LMDBEventStore(directory: dir), settings: settings)
        let components = [
            Component(name: "cpu", unitFactor: ExactDecimal(parsing: "1")!),
            Component(name: "mem", unitFactor: ExactDecimal(parsing: "1024")!),
            Component(name: "gres/gpu", unitFactor: ExactDecimal(parsing: "1")!),
        ]
        let offering = OfferingConfiguration(name: "HPC", apiURL: sim.baseURL + "/api/", token: SecretToken(token), offeringUUID: offering,
                                             components: components)
        var config = ReckonConfiguration.defaults()!
        config.offerings = [offering]
        return SimulatorHarness(sim: sim, ledger: ledger, offering: offering, config: config, directory: dir)
    }

    static let testRetry = WaldurRetryPolicy(initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50), totalBudget: .seconds(10), maxRetryAfter: .seconds(2))

    /// Runs `body` with a client of the harness's offering, and shuts the client down afterwards
    /// whether `body` returns or throws (see ``withShutdown(of:_:)``).
    @discardableResult
    func withClient<T>(retry: WaldurRetryPolicy = testRetry, _ body: (WaldurClient) async throws -> T) async throws -> T {
        try await withShutdown(of: try WaldurConnection.client(for: offering, logger: Logger(label: "test"), retry: retry, requestTimeoutSeconds: 5), body)
    }

    func ingest(_ path: String, observedAt: EpochSeconds = 1_795_746_541) throws {
        _ = try IngestService(ledger: ledger).ingestFile(path: path, timeZone: TimeZone(identifier: "UTC")!, observedAt: observedAt, defaultCluster: "x")
    }

    func reconciler(_ client: WaldurClient, clock: EpochSeconds = now) throws -> OfferingReconciler {
        try OfferingReconciler(ledger: ledger, offering: offering, client: client, clock: FixedClock(clock), logger: Logger(label: "test"))
    }

    static let months = [BillingMonth(year: 2026, month: 10)!, BillingMonth(year: 2026, month: 11)!]

    /// What the simulator stores for `month`, as core targets.
    func stored(_ month: BillingMonth, client: WaldurClient) async throws -> [UsageTarget: ReckonCore.WaldurAmount] {
        var out: [UsageTarget: ReckonCore.WaldurAmount] = [:]
        let period = WaldurBillingPeriod(year: month.year, month: month.month)!
        var parent: [String: UsageTarget] = [:]
        for u in try await client.componentUsages(.offering(WaldurUUID(Self.offering)!), billingPeriod: period) {
            let t = UsageTarget(resource: u.resourceUUID!.hex, month: month, component: u.type)
            out[t] = ReckonCore.WaldurAmount(hundredths: u.usage.hundredths)
            parent[u.uuid.hex] = t
        }
        for u in try await client.componentUserUsages(.offering(WaldurUUID(Self.offering)!), billingPeriod: period) {
            guard let p = parent[u.componentUsageUUID.hex] else { continue }
            out[UsageTarget(resource: p.resource, month: month, component: p.component, user: u.username)] = ReckonCore.WaldurAmount(hundredths: u.usage.hundredths)
        }
        return out
    }

    func posts() async -> Int {
        await sim.requestCounts().filter { $0.key.hasPrefix("POST") }.values.reduce(0, +)
    }

    func events() throws -> UInt64 { try ledger.store.read { try $0.eventCount() } }

    func stop() async {
        await sim.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with `client` and always shuts the client down: after `body` returns, and also
/// when it throws (then the error of `body` is the one rethrown). AsyncHTTPClient traps in debug
/// builds on a client deinitialised without `shutdown()` ("Client not shut down before the
/// deinit"), which would crash the whole `swift test` run instead of failing the one test.
@discardableResult
func withShutdown<T>(of client: WaldurClient, _ body: (WaldurClient) async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body(client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    return result
}
