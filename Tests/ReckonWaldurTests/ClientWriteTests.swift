import Foundation
import ReckonWaldur
import Testing
import WaldurSimulator

/// Client write operations and read-back, over real loopback HTTP.
@Suite struct ClientWriteTests {
    static let august = W.period(2026, 8)
    static let july = W.period(2026, 7)

    @Test func setUsageThenReadBack() async throws {
        try await withClient(token: W.providerToken) { h in
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [
                WaldurUsageItem(type: "cpu", amount: W.amount("120.5")),
                WaldurUsageItem(type: "mem", amount: W.amount("3087.66"), description: "sacct 2026-08"),
            ])
            let usages = try await h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.august)
            #expect(usages.map(\.type) == ["cpu", "mem"])
            #expect(usages.map(\.usage.description) == ["120.50", "3087.66"])
            #expect(usages.allSatisfy { $0.billingPeriod == Self.august && $0.resourceUUID == W.uuid(W.resourceA) })
            let byOffering = try await h.client.componentUsages(.offering(W.uuid(W.offering)), billingPeriod: Self.august)
            #expect(byOffering.count == 2)
            #expect(try await h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.july).isEmpty)
        }
    }

    /// The `date` is sent with an explicit offset; a staff token backfills the previous month.
    @Test func staffBackfillsPreviousMonthWithDate() async throws {
        try await withClient(token: W.staffToken) { h in
            let midJuly = Date(timeIntervalSince1970: 1_784_116_800)  // 2026-07-15T12:00:00Z
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA),
                                        usages: [WaldurUsageItem(type: "cpu", amount: W.amount("7"))], date: midJuly)
            let usages = try await h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.july)
            #expect(usages.map(\.usage.description) == ["7.00"])
            #expect(usages.first?.date == "2026-07-15T12:00:00Z")
        }
    }

    @Test func bulkUserUsagesAndReadBack() async throws {
        try await withClient(token: W.providerToken) { h in
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("10"))])
            let parent = try #require(try await h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.august).first)
            let aliceURL = try await h.client.offeringUsers(offeringUUID: W.uuid(W.offering)).first?.url
            let mode = try await h.client.setUserUsages(componentUsageUUID: parent.uuid, usages: [
                WaldurUserUsageItem(username: "alice", usage: W.amount("6"), offeringUserURL: aliceURL),
                WaldurUserUsageItem(username: "bob", usage: W.amount("4")),
            ])
            #expect(mode == .bulk)
            let rows = try await h.client.componentUserUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.august)
            #expect(rows.map(\.username).sorted() == ["alice", "bob"])
            #expect(rows.allSatisfy { $0.componentUsageUUID == parent.uuid && $0.componentType == "cpu" })
            #expect(rows.first { $0.username == "alice" }?.userURL == aliceURL)
            #expect(rows.first { $0.username == "bob" }?.usage == W.amount("4"))
            let counts = await h.simulator.requestCounts()
            #expect(counts["POST /api/marketplace-component-usages/{uuid}/set_user_usages/"] == 1)
        }
    }

    /// A server without `set_user_usages` (legacy switch) gets one `set_user_usage` per user,
    /// and the client remembers that for later calls.
    @Test func fallsBackToSingularOnServersWithoutBulk() async throws {
        try await withClient(seed: W.seed(legacy: true), token: W.providerToken) { h in
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("10"))])
            let parent = try #require(try await h.client.componentUsages(.resource(W.uuid(W.resourceA)), billingPeriod: Self.august).first)
            let users = [WaldurUserUsageItem(username: "alice", usage: W.amount("6")),
                         WaldurUserUsageItem(username: "bob", usage: W.amount("4"))]
            #expect(try await h.client.setUserUsages(componentUsageUUID: parent.uuid, usages: users) == .singular)
            #expect(try await h.client.setUserUsages(componentUsageUUID: parent.uuid, usages: users) == .singular)
            let counts = await h.simulator.requestCounts()
            #expect(counts["POST /api/marketplace-component-usages/\(parent.uuid.hex)/set_user_usages/"] == 1)
            #expect(counts["POST /api/marketplace-component-usages/{uuid}/set_user_usage/"] == 4)
            let rows = await stored(h.simulator).userUsages
            #expect(rows.compactMap { $0["usage"] as? String } == ["6.00", "4.00"])
        }
    }

    @Test func emptyUserUsagesSendNothing() async throws {
        try await withClient { h in
            let mode = try await h.client.setUserUsages(componentUsageUUID: W.uuid(W.resourceA), usages: [])
            #expect(mode == .nothingToSend)
            #expect(await h.simulator.requestCounts().isEmpty)
        }
    }

    /// T7: negative amounts pass Waldur's serializer, so the client refuses them before sending.
    @Test func negativeAndDuplicateItemsAreRefusedLocally() async throws {
        try await withClient { h in
            await #expect(throws: WaldurError.self) {
                try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("-1"))])
            }
            await #expect(throws: WaldurError.self) {
                try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [
                    WaldurUsageItem(type: "cpu", amount: W.amount("1")), WaldurUsageItem(type: "cpu", amount: W.amount("2")),
                ])
            }
            #expect(await h.simulator.requestCounts().isEmpty)
        }
    }

    @Test func requestsCarryUserAgentAndJSONContentType() async throws {
        // The simulator parses set_usage only with Content-Type: application/json (T21), so a 201 proves it.
        try await withClient(token: W.providerToken) { h in
            try await h.client.setUsage(resourceUUID: W.uuid(W.resourceB), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("1"))])
            #expect(await stored(h.simulator).usages.count == 1)
            #expect(await h.simulator.userAgents() == ["reckon/test": 1])
        }
    }
}
