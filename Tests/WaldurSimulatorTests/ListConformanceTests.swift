import Foundation
import Testing

/// Reference §9 "Lists" and "Resource filters", §4.3 pagination.
@Suite struct ListConformanceTests {
    static let resources = "/api/marketplace-provider-resources/"

    @Test func defaultPageIsTenWithCountAndLinks() async throws {
        try await withHarness(seed: Fixture.seed(extraResources: 19)) { sim in
            // 6 seeded + 19 = 25 resources: pages of 10, 10, 5.
            let first = try await sim.get(Self.resources)
            #expect(first.status == 200)
            #expect(first.array.count == 10)
            #expect(first.header("X-Result-Count") == "25")
            let base = sim.simulator.baseURL + Self.resources
            #expect(first.header("Link") == "<\(base)>; rel=\"first\", <\(base)?page=2>; rel=\"next\", <\(base)?page=3>; rel=\"last\"")
            let second = try await sim.get(Self.resources + "?page=2")
            #expect(second.array.count == 10)
            #expect(second.header("Link") == "<\(base)>; rel=\"first\", <\(base)>; rel=\"prev\", <\(base)?page=3>; rel=\"next\", <\(base)?page=3>; rel=\"last\"")
            let third = try await sim.get(Self.resources + "?page=3")
            #expect(third.array.count == 5)
            let uuids = Set((first.array + second.array + third.array).compactMap { $0["uuid"] as? String })
            #expect(uuids.count == 25)
        }
    }

    @Test func pagePastTheEndIs404InvalidPage() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "?page=2")
            #expect(answer.status == 404)
            #expect(jsonEquals(answer, #"{"detail":"Invalid page."}"#))
        }
    }

    @Test func pageSizeIsCappedAtOneHundred() async throws {
        try await withHarness(seed: Fixture.seed(extraResources: 114)) { sim in
            let answer = try await sim.get(Self.resources + "?page_size=1000")
            #expect(answer.array.count == 100)
            #expect(answer.header("X-Result-Count") == "120")
            let link = try #require(answer.header("Link"))
            #expect(link.contains("?page=2&page_size=1000>; rel=\"next\""))
        }
    }

    @Test func fieldRestrictsKeys() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "?field=uuid&field=backend_id&offering_uuid=\(IDs.offering)")
            #expect(answer.array.count == 5)
            for item in answer.array {
                #expect(Set(item.keys) == ["uuid", "backend_id"])
            }
        }
    }

    @Test func stateFilterRejectsUnknownLabel() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "?state=Bogus")
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"state":["Select a valid choice. Bogus is not one of the available choices."]}"#))
        }
    }

    @Test func stateFilterRepeats() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "?offering_uuid=\(IDs.offering)&state=OK&state=Erred&field=state")
            #expect(answer.array.compactMap { $0["state"] as? String }.sorted() == ["Erred", "OK", "OK"])
        }
    }

    @Test func offeringUUIDAcceptsCommaSeparatedAndDashedValues() async throws {
        try await withHarness { sim in
            let dashed = "0f000000-0000-0000-0000-000000000002"
            let answer = try await sim.get(Self.resources + "?offering_uuid=\(IDs.offering),\(dashed)")
            #expect(answer.header("X-Result-Count") == "6")
        }
    }

    @Test func backendIDFilterIsExactAndUnknownParamsAreIgnored() async throws {
        try await withHarness { sim in
            let exact = try await sim.get(Self.resources + "?backend_id=hpc_alloc_a")
            #expect(exact.array.map { $0["uuid"] as? String } == [IDs.resourceOK])
            let prefix = try await sim.get(Self.resources + "?backend_id=hpc_alloc")
            #expect(prefix.array.isEmpty)
            let typo = try await sim.get(Self.resources + "?backendid=hpc_alloc_a")
            #expect(typo.header("X-Result-Count") == "6")
        }
    }

    @Test func headReturnsHeadersWithoutBody() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("HEAD", Self.resources, token: IDs.staffToken)
            #expect(answer.status == 200)
            #expect(answer.header("X-Result-Count") == "6")
            #expect(answer.text.isEmpty)
        }
    }

    @Test func providerSeesOnlyOwnOfferingsResources() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources, token: IDs.providerToken)
            #expect(answer.header("X-Result-Count") == "5")
            let outsider = try await sim.get(Self.resources, token: IDs.outsiderToken)
            #expect(outsider.header("X-Result-Count") == "0")
            #expect(outsider.array.isEmpty)
        }
    }

    @Test func unknownResourceDetailIs404() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "ffffffffffffffffffffffffffffffff/")
            #expect(answer.status == 404)
            #expect(jsonEquals(answer, #"{"detail":"No Resource matches the given query."}"#))
        }
    }

    @Test func resourceRendersHexUUIDsAndEmptyBackendIDNeverNull() async throws {
        try await withHarness { sim in
            let answer = try await sim.get(Self.resources + "a0000000-0000-0000-0000-000000000001/")
            #expect(answer.status == 200)
            #expect(answer.object["uuid"] as? String == IDs.resourceOK)
            #expect(answer.object["backend_id"] as? String == "hpc_alloc_a")
            #expect(answer.object["offering_uuid"] as? String == IDs.offering)
        }
    }

    /// §4.2 / T19: non-staff see offering users only where the offering lets providers manage them.
    @Test func offeringUsersVisibility() async throws {
        try await withHarness { sim in
            let provider = try await sim.get("/api/marketplace-offering-users/?offering_uuid=\(IDs.offering)", token: IDs.providerToken)
            #expect(provider.array.compactMap { $0["username"] as? String }.sorted() == ["alice", "bob"])
            let staff = try await sim.get("/api/marketplace-offering-users/")
            #expect(staff.header("X-Result-Count") == "3")
            let other = try await sim.get("/api/marketplace-offering-users/?offering_uuid=\(IDs.otherOffering)", token: IDs.providerToken)
            #expect(other.array.isEmpty)
            let url = try #require(provider.array.first?["url"] as? String)
            #expect(url.hasPrefix(sim.simulator.baseURL + "/api/marketplace-offering-users/"))
        }
    }

    @Test func offeringUsersUserUsernameIsCaseInsensitiveExact() async throws {
        try await withHarness { sim in
            let answer = try await sim.get("/api/marketplace-offering-users/?user_username=ALICE@example.org")
            #expect(answer.array.compactMap { $0["uuid"] as? String } == [IDs.alice])
            let partial = try await sim.get("/api/marketplace-offering-users/?user_username=alice")
            #expect(partial.array.isEmpty)
        }
    }

    @Test func providerOfferingListsComponents() async throws {
        try await withHarness { sim in
            let answer = try await sim.get("/api/marketplace-provider-offerings/\(IDs.offering)/?field=components", token: IDs.providerToken)
            #expect(Set(answer.object.keys) == ["components"])
            let components = (answer.object["components"] as? [[String: Any]]) ?? []
            #expect(components.compactMap { $0["type"] as? String } == ["cpu", "ram", "storage", "license", "fixed_fee"])
            #expect(components.first?["billing_type"] as? String == "usage")
            #expect(components.first?["measured_unit"] as? String == "k-Hours")
            let hidden = try await sim.get("/api/marketplace-provider-offerings/\(IDs.otherOffering)/", token: IDs.providerToken)
            #expect(hidden.status == 404)
        }
    }
}
