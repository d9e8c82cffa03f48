import Foundation
import ReckonWaldur
import Testing
import WaldurSimulator

/// Each `WaldurError` class, produced by the simulator over real HTTP, and the retry behaviour.
@Suite struct ClientErrorTests {
    static let cpu = [WaldurUsageItem(type: "cpu", amount: W.amount("1"))]

    static func thrown(_ body: () async throws -> Void) async -> WaldurError? {
        do {
            try await body()
            return nil
        } catch let error as WaldurError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func unknownTokenIsUnauthorized() async throws {
        try await withClient(token: "not-a-known-token") { h in
            let error = await Self.thrown { _ = try await h.client.me() }
            guard case .unauthorized(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.detail == "Invalid token.")
            #expect(h.attempts.all.count == 1)  // never retried
        }
    }

    @Test func outsiderIsForbidden() async throws {
        try await withClient(token: W.outsiderToken) { h in
            let error = await Self.thrown { try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: Self.cpu) }
            guard case .forbidden(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.detail == "You do not have permission to perform this action.")
        }
    }

    @Test func unknownComponentUsageIsNotFound() async throws {
        try await withClient { h in
            let error = await Self.thrown {
                try await h.client.setUserUsages(componentUsageUUID: W.uuid("ffffffffffffffffffffffffffffffff"),
                                                 usages: [WaldurUserUsageItem(username: "alice", usage: W.amount("1"))])
            }
            guard case .notFound(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.detail == "No ComponentUsage matches the given query.")
        }
    }

    @Test func invalidComponentIsValidationWithServerMessage() async throws {
        try await withClient { h in
            let error = await Self.thrown {
                try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "gpu", amount: W.amount("1"))])
            }
            guard case .validation(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.fields["non_field_errors"] == ["These components are invalid: gpu."])
            #expect(error?.status == 400)
        }
    }

    @Test func erredResourceIsValidation() async throws {
        try await withClient { h in
            let error = await Self.thrown { try await h.client.setUsage(resourceUUID: W.uuid(W.resourceErred), usages: Self.cpu) }
            guard case .validation(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.fields["resource"] == ["Resource is not in valid state."])
        }
    }

    /// §2.3 / T4: a service provider's past-month report of a usage component is its own case.
    @Test func providerBackfillIsBackfillRefused() async throws {
        try await withClient(token: W.providerToken) { h in
            let midJuly = Date(timeIntervalSince1970: 1_784_116_800)
            let error = await Self.thrown { try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: Self.cpu, date: midJuly) }
            guard case .backfillRefused(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.contains("backfilling past billing periods"))
            #expect(message.fields["date"]?.count == 1)
        }
    }

    @Test func futureDateIsValidation() async throws {
        try await withClient { h in
            let error = await Self.thrown {
                try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: Self.cpu, date: W.now.addingTimeInterval(3600))
            }
            guard case .validation(let message)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.fields["date"] == ["Cannot submit usage for future dates"])
        }
    }

    @Test func transientFailuresAreRetried() async throws {
        let faults = SimulatorFaults(script: [.init(kind: "status", status: 503), .init(kind: "status", status: 502)])
        try await withClient(faults: faults) { h in
            let me = try await h.client.me()
            #expect(me.isStaff)
            let attempts = h.attempts.all
            #expect(attempts.map(\.attempt) == [1, 2, 3])
            #expect(attempts.map(\.status) == [503, 502, 200])
            #expect(attempts.last?.outcome == .succeeded)
            #expect(attempts.allSatisfy { $0.pathTemplate == "/api/users/me/" && $0.method == "GET" })
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let faults = SimulatorFaults(script: [.init(kind: "rate_limit", retryAfterSeconds: 1)])
        try await withClient(faults: faults) { h in
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await h.client.me()
            #expect(clock.now - start >= .seconds(1))
            guard case .willRetry(let delay)? = h.attempts.all.first?.outcome else {
                Issue.record("first attempt should be retried")
                return
            }
            #expect(delay >= .seconds(1))
            #expect(h.attempts.all.first?.status == 429)
        }
    }

    @Test func retryAfterBeyondTheLimitGivesUp() async throws {
        let faults = SimulatorFaults(script: [.init(kind: "rate_limit", retryAfterSeconds: 30)])
        try await withClient(faults: faults) { h in
            let error = await Self.thrown { _ = try await h.client.me() }
            guard case .retriesExhausted(let attempts, .rateLimited(_, let after))? = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(attempts == 1)
            #expect(after == 30)
        }
    }

    @Test func retriesAreBounded() async throws {
        let faults = SimulatorFaults(script: Array(repeating: .init(kind: "status", status: 503), count: 5))
        try await withClient(faults: faults) { h in
            let error = await Self.thrown { _ = try await h.client.me() }
            guard case .retriesExhausted(let attempts, .serverUnavailable(503, _))? = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(attempts == 4)
            #expect(await h.simulator.requestCounts()["GET /api/users/me/"] == 4)
        }
    }

    @Test func internalServerErrorIsNotRetried() async throws {
        let faults = SimulatorFaults(script: [.init(kind: "status", status: 500)])
        try await withClient(faults: faults) { h in
            let error = await Self.thrown { _ = try await h.client.me() }
            guard case .unexpectedStatus(500, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(h.attempts.all.count == 1)
        }
    }

    /// The ambiguous outcome: the write was applied but the answer never came. The client retries,
    /// and because `set_usage` overwrites, the stored total is right and not doubled.
    @Test func droppedConnectionAfterWriteIsRetriedSafely() async throws {
        let faults = SimulatorFaults(paths: ["/api/marketplace-component-usages/set_usage/"], script: [.init(kind: "drop_after_write")])
        try await withClient(faults: faults) { h in
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("42.10"))])
            #expect(h.attempts.all.map(\.status) == [nil, 201])
            #expect(await h.simulator.requestCounts()["POST /api/marketplace-component-usages/set_usage/"] == 2)
            let usages = await stored(h.simulator).usages
            #expect(usages.compactMap { $0["usage"] as? String } == ["42.10"])
        }
    }

    @Test func refusedConnectionIsTransport() async throws {
        let gone = try await WaldurSimulator.start(seed: W.seed())
        let port = gone.port
        await gone.stop()
        let token = try #require(WaldurToken(W.staffToken))
        let endpoint = try WaldurEndpoint(
            apiURL: "http://127.0.0.1:\(port)/api/", token: token, connectTimeout: .seconds(2),
            retry: WaldurRetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(5)))
        let error = try await withShutdown(of: WaldurClient(endpoint: endpoint)) { client in
            await Self.thrown { _ = try await client.me() }
        }
        guard case .retriesExhausted(2, .transport)? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func pageRequestsStayWithinOneHundred() async throws {
        try await withClient(seed: W.seed(extraResources: 150)) { h in
            let resources = try await h.client.providerResources(offeringUUID: W.uuid(W.offering))
            #expect(resources.count == 153)
            #expect(await h.simulator.requestCounts()["GET /api/marketplace-provider-resources/"] == 2)
        }
    }
}
