import Foundation
import Logging
import ReckonWaldur
import Synchronization
import Testing
import WaldurSimulator

/// Identifiers and tokens of the client tests' Waldur.
enum W {
    static let providerCustomer = "c1000000000000000000000000000001"
    static let offering = "0f100000000000000000000000000001"
    static let project = "9a100000000000000000000000000001"
    static let resourceA = "a1000000000000000000000000000001"
    static let resourceB = "a1000000000000000000000000000002"
    static let resourceErred = "a1000000000000000000000000000003"
    static let alice = "e1000000000000000000000000000001"

    static let staffToken = "staffclient00000000000000000000000000001"
    static let providerToken = "provclient000000000000000000000000000001"
    static let outsiderToken = "outsclient000000000000000000000000000001"

    static func uuid(_ hex: String) -> WaldurUUID {
        WaldurUUID(hex) ?? WaldurUUID(UUID())
    }

    static func period(_ year: Int, _ month: Int) -> WaldurBillingPeriod {
        guard let period = WaldurBillingPeriod(year: year, month: month) else {
            preconditionFailure("test fixture month \(year)-\(month) is not a month")
        }
        return period
    }

    static func amount(_ text: String) -> WaldurAmount {
        WaldurAmount(text) ?? .zero
    }

    static func seed(extraResources: Int = 0, legacy: Bool = false, staffToken: String = staffToken) -> SimulatorSeed {
        var resources: [SimulatorSeed.Resource] = [
            .init(uuid: resourceA, offeringUUID: offering, backendID: "hpc_alloc_a", state: "OK", name: "alloc-a", projectUUID: project),
            .init(uuid: resourceB, offeringUUID: offering, backendID: "hpc_alloc_b", state: "OK", name: "alloc-b"),
            .init(uuid: resourceErred, offeringUUID: offering, backendID: "hpc_alloc_c", state: "Erred", name: "alloc-c"),
        ]
        for index in 0..<extraResources {
            resources.append(.init(uuid: String(format: "b1%030x", index + 1), offeringUUID: offering,
                                   backendID: String(format: "acct_%03d", index), state: "OK"))
        }
        return SimulatorSeed(
            legacyMode: legacy,
            users: [
                .init(token: staffToken, username: "staff", isStaff: true),
                .init(token: providerToken, username: "provider", serviceProviderFor: [providerCustomer]),
                .init(token: outsiderToken, username: "outsider"),
            ],
            offerings: [
                .init(uuid: offering, customerUUID: providerCustomer, name: "HPC", serviceProviderCanCreateOfferingUser: true,
                      components: [
                        .init(type: "cpu", billingType: "usage", measuredUnit: "k-Hours", unitFactor: 60000),
                        .init(type: "mem", billingType: "usage", measuredUnit: "GB-Hours"),
                        .init(type: "storage", billingType: "limit", measuredUnit: "TB"),
                      ]),
            ],
            resources: resources,
            offeringUsers: [
                .init(uuid: alice, offeringUUID: offering, username: "alice", userUsername: "alice@example.org"),
            ])
    }

    /// Short delays so retry tests stay fast.
    static let fastRetry = WaldurRetryPolicy(
        maxAttempts: 4, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(40), jitter: 0.5,
        totalBudget: .seconds(20), maxRetryAfter: .seconds(3))

    /// "Now" of the simulator in these tests.
    static let now = Date(timeIntervalSince1970: 1_786_795_200)  // 2026-08-15T12:00:00Z
}

/// Collects log lines (message and metadata) so tests can look for a leaked token.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label, factory: { _ in CapturingHandler(capture: self) })
        logger.logLevel = .trace
        return logger
    }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
        }
    }
}

/// Collects the client's HTTP attempts.
final class AttemptLog: Sendable {
    private let attempts = Mutex<[WaldurHTTPAttempt]>([])
    var all: [WaldurHTTPAttempt] { attempts.withLock { $0 } }
    var observer: WaldurAttemptObserver { { attempt in self.attempts.withLock { $0.append(attempt) } } }
}

/// A simulator, frozen at `W.now`, and a client pointed at it.
struct ClientHarness {
    let simulator: WaldurSimulator
    let client: WaldurClient
    let attempts: AttemptLog
    let logs: LogCapture
}

func withClient(
    seed: SimulatorSeed = W.seed(), token: String = W.staffToken, retry: WaldurRetryPolicy = W.fastRetry,
    pageSize: Int = 100, faults: SimulatorFaults = .none, logs: LogCapture = LogCapture(),
    requestTimeout: Duration = .seconds(10),
    _ body: (ClientHarness) async throws -> Void
) async throws {
    let simulator = try await WaldurSimulator.start(seed: seed, faults: faults, logger: logs.logger("sim"))
    await simulator.setNow(W.now)
    let attempts = AttemptLog()
    let client: WaldurClient
    do {
        guard let secret = WaldurToken(token) else { throw WaldurError.invalidConfiguration("bad test token") }
        let endpoint = try WaldurEndpoint(
            apiURL: simulator.baseURL + "/api/", token: secret, requestTimeout: requestTimeout, retry: retry,
            pageSize: pageSize, userAgent: "reckon/test")
        client = WaldurClient(endpoint: endpoint, logger: logs.logger("client"), observer: attempts.observer)
    } catch {
        await simulator.stop()
        throw error
    }
    let harness = ClientHarness(simulator: simulator, client: client, attempts: attempts, logs: logs)
    do {
        try await body(harness)
    } catch {
        try? await client.shutdown()
        await simulator.stop()
        throw error
    }
    try await client.shutdown()
    await simulator.stop()
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

/// Stored usages as the simulator reports them (`/_sim/usages`).
func stored(_ simulator: WaldurSimulator) async -> (usages: [[String: Any]], userUsages: [[String: Any]]) {
    let text = await simulator.storedUsagesJSON()
    let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    return ((object["component_usages"] as? [[String: Any]]) ?? [], (object["user_usages"] as? [[String: Any]]) ?? [])
}
