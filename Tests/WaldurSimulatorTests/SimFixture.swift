import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import WaldurSimulator

/// Identifiers and tokens of the conformance seed. Values are arbitrary but fixed, so the
/// expected messages (which echo them) can be written out in the tests.
enum IDs {
    static let providerCustomer = "c0000000000000000000000000000001"
    static let otherCustomer = "c0000000000000000000000000000002"
    static let offering = "0f000000000000000000000000000001"
    static let otherOffering = "0f000000000000000000000000000002"
    static let project = "9a000000000000000000000000000001"
    static let resourceOK = "a0000000000000000000000000000001"
    static let resourceErred = "a0000000000000000000000000000002"
    static let resourceCreating = "a0000000000000000000000000000003"
    static let resourceTerminating = "a0000000000000000000000000000004"
    static let resourceNoPlan = "a0000000000000000000000000000005"
    static let resourceOther = "a0000000000000000000000000000006"
    static let alice = "e0000000000000000000000000000001"
    static let bob = "e0000000000000000000000000000002"
    static let carol = "e0000000000000000000000000000003"

    static let staffToken = "staff0000000000000000000000000000000001"
    static let providerToken = "prov00000000000000000000000000000000001"
    static let outsiderToken = "outs00000000000000000000000000000000001"
    static let memberToken = "memb00000000000000000000000000000000001"
}

enum Fixture {
    /// The conformance seed: one provider offering with every billing type, resources in every
    /// state that matters, and users with each role.
    static func seed(timeZone: String? = nil, legacy: Bool = false, extraResources: Int = 0) -> SimulatorSeed {
        var resources: [SimulatorSeed.Resource] = [
            .init(uuid: IDs.resourceOK, offeringUUID: IDs.offering, backendID: "hpc_alloc_a", state: "OK",
                  name: "alloc-a", projectUUID: IDs.project),
            .init(uuid: IDs.resourceErred, offeringUUID: IDs.offering, backendID: "hpc_alloc_b", state: "Erred", name: "alloc-b"),
            .init(uuid: IDs.resourceCreating, offeringUUID: IDs.offering, backendID: "hpc_alloc_c", state: "Creating", name: "alloc-c"),
            .init(uuid: IDs.resourceTerminating, offeringUUID: IDs.offering, backendID: "hpc_alloc_d", state: "Terminating", name: "alloc-d"),
            .init(uuid: IDs.resourceNoPlan, offeringUUID: IDs.offering, backendID: "hpc_alloc_e", state: "OK", name: "alloc-e", hasPlan: false),
            .init(uuid: IDs.resourceOther, offeringUUID: IDs.otherOffering, backendID: "other_alloc", state: "OK", name: "other"),
        ]
        for index in 0..<extraResources {
            resources.append(.init(uuid: String(format: "b%031x", index + 1), offeringUUID: IDs.offering,
                                   backendID: String(format: "bulk_%03d", index), state: "OK", name: String(format: "bulk-%03d", index)))
        }
        return SimulatorSeed(
            timeZone: timeZone, legacyMode: legacy,
            users: [
                .init(token: IDs.staffToken, username: "staff", isStaff: true),
                .init(token: IDs.providerToken, username: "provider", serviceProviderFor: [IDs.providerCustomer]),
                .init(token: IDs.outsiderToken, username: "outsider"),
                .init(token: IDs.memberToken, username: "member", memberOfProjects: [IDs.project]),
            ],
            offerings: [
                .init(uuid: IDs.offering, customerUUID: IDs.providerCustomer, name: "HPC",
                      serviceProviderCanCreateOfferingUser: true,
                      components: [
                        .init(type: "cpu", billingType: "usage", measuredUnit: "k-Hours"),
                        .init(type: "ram", billingType: "usage", measuredUnit: "GB-Hours"),
                        .init(type: "storage", billingType: "limit", measuredUnit: "TB"),
                        .init(type: "license", billingType: "one", measuredUnit: "seat"),
                        .init(type: "fixed_fee", billingType: "fixed", measuredUnit: "month"),
                      ]),
                .init(uuid: IDs.otherOffering, customerUUID: IDs.otherCustomer, name: "Other",
                      components: [.init(type: "cpu", billingType: "usage", measuredUnit: "k-Hours")]),
            ],
            resources: resources,
            offeringUsers: [
                .init(uuid: IDs.alice, offeringUUID: IDs.offering, username: "alice", userUsername: "alice@example.org"),
                .init(uuid: IDs.bob, offeringUUID: IDs.offering, username: "bob", userUsername: "bob@example.org"),
                .init(uuid: IDs.carol, offeringUUID: IDs.otherOffering, username: "carol", userUsername: "carol@example.org"),
            ])
    }

    /// "Now" for most tests: mid-month, so a past month and a future date are unambiguous.
    static let midAugust = "2026-08-15T12:00:00+00:00"
}

/// An answer as seen on the wire.
struct WireResponse {
    var status: Int
    var headers: HTTPHeaders
    var text: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
    var array: [[String: Any]] { (json as? [[String: Any]]) ?? [] }
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A running simulator plus a raw HTTP client, for conformance tests over real loopback HTTP.
final class SimHarness: Sendable {
    let simulator: WaldurSimulator
    let http: HTTPClient

    init(seed: SimulatorSeed = Fixture.seed(), now: String? = Fixture.midAugust, statePath: String? = nil) async throws {
        simulator = try await WaldurSimulator.start(seed: seed, statePath: statePath)
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        if let now {
            // A failed request must not leave the HTTP client unshut: AsyncHTTPClient traps on that
            // in debug builds ("Client not shut down before the deinit"), crashing the whole run.
            do {
                let answer = try await send("POST", "/_sim/clock", json: "{\"now\": \"\(now)\"}")
                #expect(answer.status == 200)
            } catch {
                await close()
                throw error
            }
        }
    }

    func close() async {
        try? await http.shutdown()
        await simulator.stop()
    }

    /// Sends a request; `token` nil sends no Authorization header.
    func send(_ method: String, _ pathAndQuery: String, token: String? = nil, json: String? = nil,
              contentType: String? = "application/json", authorization: String? = nil) async throws -> WireResponse {
        var request = HTTPClientRequest(url: simulator.baseURL + pathAndQuery)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Token \(token)") }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let json {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return WireResponse(status: Int(response.status.code), headers: response.headers, text: String(buffer: body))
    }

    func get(_ pathAndQuery: String, token: String = IDs.staffToken) async throws -> WireResponse {
        try await send("GET", pathAndQuery, token: token)
    }

    func post(_ path: String, token: String = IDs.staffToken, _ json: String) async throws -> WireResponse {
        try await send("POST", path, token: token, json: json)
    }

    /// Stored component usages from `GET /_sim/usages`.
    func storedUsages() async throws -> [[String: Any]] {
        let answer = try await send("GET", "/_sim/usages")
        return (answer.object["component_usages"] as? [[String: Any]]) ?? []
    }

    /// Stored user usages from `GET /_sim/usages`.
    func storedUserUsages() async throws -> [[String: Any]] {
        let answer = try await send("GET", "/_sim/usages")
        return (answer.object["user_usages"] as? [[String: Any]]) ?? []
    }
}

/// Runs `body` with a started harness and always stops it.
func withHarness(seed: SimulatorSeed = Fixture.seed(), now: String? = Fixture.midAugust, statePath: String? = nil,
                 _ body: (SimHarness) async throws -> Void) async throws {
    let harness = try await SimHarness(seed: seed, now: now, statePath: statePath)
    do {
        try await body(harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}

/// Parses expected JSON written in a test, for comparison with the answer's JSON.
func parsedJSON(_ text: String) -> NSObject? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) as? NSObject
}

/// True when the answer's JSON equals the expected JSON text (key order ignored).
func jsonEquals(_ answer: WireResponse, _ expected: String) -> Bool {
    guard let actual = answer.json as? NSObject, let wanted = parsedJSON(expected) else { return false }
    return actual.isEqual(wanted)
}

/// A raw HTTP client for a simulator started elsewhere (by the command entry point).
final class SimProbe: Sendable {
    let baseURL: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    func get(_ pathAndQuery: String, token: String) async throws -> WireResponse {
        var request = HTTPClientRequest(url: baseURL + pathAndQuery)
        request.headers.add(name: "Authorization", value: "Token \(token)")
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1024 * 1024)
        return WireResponse(status: Int(response.status.code), headers: response.headers, text: String(buffer: body))
    }

    func close() async throws {
        try await http.shutdown()
    }

    /// Runs `body` with a probe of `baseURL` and always shuts its HTTP client down, also when
    /// `body` throws (AsyncHTTPClient traps on a client deinitialised without shutdown).
    @discardableResult
    static func with<T>(baseURL: String, _ body: (SimProbe) async throws -> T) async throws -> T {
        let probe = SimProbe(baseURL: baseURL)
        let result: T
        do {
            result = try await body(probe)
        } catch {
            try? await probe.http.shutdown()
            throw error
        }
        try await probe.close()
        return result
    }
}
