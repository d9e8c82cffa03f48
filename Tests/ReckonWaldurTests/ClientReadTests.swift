import Foundation
import ReckonWaldur
import Testing
import WaldurSimulator

/// Client read operations against the simulator over real loopback HTTP.
@Suite struct ClientReadTests {
    @Test func meReportsStaff() async throws {
        try await withClient(token: W.staffToken) { h in
            let me = try await h.client.me()
            #expect(me.isStaff)
            #expect(me.username == "staff")
        }
        try await withClient(token: W.providerToken) { h in
            let me = try await h.client.me()
            #expect(me.isStaff == false)
        }
    }

    @Test func offeringComponents() async throws {
        try await withClient(token: W.providerToken) { h in
            let offering = try await h.client.offering(W.uuid(W.offering))
            #expect(offering.customerUUID == W.uuid(W.providerCustomer))
            #expect(offering.components.map(\.type) == ["cpu", "mem", "storage"])
            #expect(offering.components.first?.measuredUnit == "k-Hours")
            #expect(offering.components.first?.unitFactor == 60000)
            #expect(offering.components.map(\.acceptsReportedUsage) == [true, true, true])
        }
    }

    /// §4.3 / T18: every page is followed via `Link: rel="next"`, each with `page_size` ≤ 100.
    @Test func providerResourcesFollowsEveryPage() async throws {
        try await withClient(seed: W.seed(extraResources: 137), pageSize: 7) { h in
            let resources = try await h.client.providerResources(offeringUUID: W.uuid(W.offering))
            #expect(resources.count == 140)
            #expect(Set(resources.map(\.uuid)).count == 140)
            let counts = await h.simulator.requestCounts()
            #expect(counts["GET /api/marketplace-provider-resources/"] == 20)  // ceil(140 / 7)
            let erred = resources.first { $0.uuid == W.uuid(W.resourceErred) }
            #expect(erred?.knownState == .erred)
            #expect(erred?.backendID == "hpc_alloc_c")
        }
    }

    @Test func providerResourcesFiltersByState() async throws {
        try await withClient(token: W.providerToken) { h in
            let ok = try await h.client.providerResources(offeringUUID: W.uuid(W.offering), states: [.ok])
            #expect(ok.map(\.backendID).sorted() == ["hpc_alloc_a", "hpc_alloc_b"])
            let both = try await h.client.providerResources(offeringUUID: W.uuid(W.offering), states: [.ok, .erred])
            #expect(both.count == 3)
        }
    }

    @Test func offeringUsersCarryURLsForUserUsages() async throws {
        try await withClient(token: W.providerToken) { h in
            let users = try await h.client.offeringUsers(offeringUUID: W.uuid(W.offering), isRestricted: false)
            #expect(users.count == 1)
            #expect(users.first?.username == "alice")
            #expect(users.first?.userUsername == "alice@example.org")
            #expect(users.first?.url == "\(h.simulator.baseURL)/api/marketplace-offering-users/\(W.alice)/")
        }
    }

    @Test func emptyListIsNotAnError() async throws {
        try await withClient(token: W.outsiderToken) { h in
            let resources = try await h.client.providerResources(offeringUUID: W.uuid(W.offering))
            #expect(resources.isEmpty)
        }
    }

    /// §4.3 / T18: writes during paging shift pages. When `X-Result-Count` changes between pages the
    /// client lists again instead of returning a list with a missing or doubled record.
    @Test func listsAgainWhenTheCountChangesWhilePaging() async throws {
        var seed = W.seed()
        seed.componentUsages = [
            .init(resourceUUID: W.resourceA, type: "cpu", billingPeriod: "2026-08-01", usage: "1", date: "2026-08-10T00:00:00Z"),
            .init(resourceUUID: W.resourceA, type: "mem", billingPeriod: "2026-08-01", usage: "2", date: "2026-08-11T00:00:00Z"),
        ]
        // Every list page is answered 3 s after it arrives: the simulator counts the request when
        // it arrives, waits, then reads the list. The client asks for page 2 only once page 1 is
        // answered, so the write goes in as soon as page 2 has arrived: after page 1 was read and
        // 3 s before page 2 is. (An earlier version slept a fixed 4.5 s after page 1 arrived; on a
        // loaded CI machine its ±1.5 s of margin was not enough.) No retries and a long request
        // timeout: the second GET must be page 2, not page 1 again after a timeout — which once
        // happened in a CI rehearsal (the test took 31 s), so the write landed before page 1 was
        // read and nothing was listed again.
        let faults = SimulatorFaults(latencyMilliseconds: 3_000, paths: ["/api/marketplace-component-usages/"])
        try await withClient(seed: seed, retry: .none, pageSize: 1, faults: faults, requestTimeout: .seconds(300)) { h in
            let august = W.period(2026, 8)
            async let listed = h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: august)
            var waited = 0
            while (await h.simulator.requestCounts()["GET /api/marketplace-component-usages/"] ?? 0) < 2, waited < 60_000 {
                try await Task.sleep(for: .milliseconds(5))
                waited += 5
            }
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "storage", amount: W.amount("3"))])
            let usages = try await listed
            #expect(usages.map(\.type).sorted() == ["cpu", "mem", "storage"])
            #expect(await h.simulator.requestCounts()["GET /api/marketplace-component-usages/"] == 5)  // 2 + 3 pages
            #expect(h.logs.all.contains { $0.contains("listing again") })
        }
    }
}
