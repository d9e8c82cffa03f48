import Foundation
import Testing
import WaldurSimulator

/// Reference §9 `set_user_usage` / `set_user_usages`, §2.1 per-user semantics, traps T8, T12, T14, T22.
@Suite struct UserUsageConformanceTests {
    static let setUsage = "/api/marketplace-component-usages/set_usage/"

    /// Creates the August cpu record of the OK resource with `total` and returns its uuid.
    static func parent(_ sim: SimHarness, total: String) async throws -> String {
        let answer = try await sim.post(setUsage, "{\"resource\":\"\(IDs.resourceOK)\",\"usages\":[{\"type\":\"cpu\",\"amount\":\"\(total)\"}]}")
        #expect(answer.status == 201)
        let listed = try await sim.get("/api/marketplace-component-usages/?resource_uuid=\(IDs.resourceOK)&billing_period=2026-08-01&type=cpu")
        return try #require(listed.array.first?["uuid"] as? String)
    }

    static func bulkPath(_ uuid: String) -> String { "/api/marketplace-component-usages/\(uuid)/set_user_usages/" }
    static func singlePath(_ uuid: String) -> String { "/api/marketplace-component-usages/\(uuid)/set_user_usage/" }

    @Test func bulkCreatesRowsAndZeroTotalBecomesTheSum() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "0")
            let answer = try await sim.post(Self.bulkPath(uuid), #"{"usages":[{"username":"alice","usage":"3.25"},{"username":"bob","usage":"4"}]}"#)
            #expect(answer.status == 201)
            #expect(answer.text.isEmpty)
            let rows = try await sim.storedUserUsages()
            #expect(rows.compactMap { $0["username"] as? String } == ["alice", "bob"])
            #expect(rows.compactMap { $0["usage"] as? String } == ["3.25", "4.00"])
            #expect(try await sim.storedUsages().first?["usage"] as? String == "7.25")
        }
    }

    @Test func nonZeroTotalIsLeftAlone() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "100")
            _ = try await sim.post(Self.bulkPath(uuid), #"{"usages":[{"username":"alice","usage":"3"}]}"#)
            #expect(try await sim.storedUsages().first?["usage"] as? String == "100.00")
        }
    }

    @Test func singularOverwritesByUsername() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "10")
            _ = try await sim.post(Self.singlePath(uuid), #"{"username":"alice","usage":"1"}"#)
            let second = try await sim.post(Self.singlePath(uuid), #"{"username":"alice","usage":"2"}"#)
            #expect(second.status == 201)
            let rows = try await sim.storedUserUsages()
            #expect(rows.count == 1)
            #expect(rows.first?["usage"] as? String == "2.00")
        }
    }

    @Test func userLinkIsValidatedAndRendered() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "10")
            let base = sim.simulator.baseURL
            let missing = try await sim.post(Self.singlePath(uuid),
                "{\"username\":\"alice\",\"usage\":\"1\",\"user\":\"\(base)/api/marketplace-offering-users/ffffffffffffffffffffffffffffffff/\"}")
            #expect(missing.status == 400)
            #expect(jsonEquals(missing, #"{"user":["Invalid hyperlink - Object does not exist."]}"#))
            let good = try await sim.post(Self.singlePath(uuid),
                "{\"username\":\"alice\",\"usage\":\"1\",\"user\":\"\(base)/api/marketplace-offering-users/\(IDs.alice)/\"}")
            #expect(good.status == 201)
            let listed = try await sim.get("/api/marketplace-component-user-usages/?resource_uuid=\(IDs.resourceOK)&component_usage__billing_period=2026-08-01")
            let row = try #require(listed.array.first)
            #expect(row["user"] as? String == "\(base)/api/marketplace-offering-users/\(IDs.alice)/")
            #expect(row["component_usage"] as? String == "\(base)/api/marketplace-component-usages/\(uuid)/")
            #expect(row["usage"] as? String == "1.00")
            #expect(row["component_type"] as? String == "cpu")
        }
    }

    /// S2 `test_atomicity_none_persisted_on_validation_failure`.
    @Test func bulkIsAtomic() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "0")
            let answer = try await sim.post(Self.bulkPath(uuid), #"{"usages":[{"username":"alice","usage":"1"},{"username":"bob","usage":"1.005"}]}"#)
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"usages":[{},{"usage":["Ensure that there are no more than 2 decimal places."]}]}"#))
            #expect(try await sim.storedUserUsages().isEmpty)
            #expect(try await sim.storedUsages().first?["usage"] as? String == "0.00")
        }
    }

    /// S2 `test_empty_usages_returns_400`.
    @Test func bulkRejectsEmptyList() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "1")
            let answer = try await sim.post(Self.bulkPath(uuid), #"{"usages":[]}"#)
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"usages":["This list may not be empty."]}"#))
        }
    }

    @Test func usernameIsRequiredAndBounded() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "1")
            let missing = try await sim.post(Self.singlePath(uuid), #"{"usage":"1"}"#)
            #expect(jsonEquals(missing, #"{"username":["This field is required."]}"#))
            let long = String(repeating: "x", count: 101)
            let tooLong = try await sim.post(Self.singlePath(uuid), "{\"username\":\"\(long)\",\"usage\":\"1\"}")
            #expect(jsonEquals(tooLong, #"{"username":["Ensure this field has no more than 100 characters."]}"#))
        }
    }

    /// T22: 401 → 404 → 403 → 400 for set_user_usage.
    @Test func orderIs404Then403Then400() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "1")
            let unknown = try await sim.post(Self.singlePath("ffffffffffffffffffffffffffffffff"), #"{"username":"alice","usage":"1"}"#)
            #expect(unknown.status == 404)
            #expect(jsonEquals(unknown, #"{"detail":"No ComponentUsage matches the given query."}"#))
            let invisible = try await sim.post(Self.singlePath(uuid), token: IDs.outsiderToken, #"{"username":"alice","usage":"bad"}"#)
            #expect(invisible.status == 404)
            let forbidden = try await sim.post(Self.singlePath(uuid), token: IDs.memberToken, #"{"username":"alice","usage":"bad"}"#)
            #expect(forbidden.status == 403)
            #expect(jsonEquals(forbidden, #"{"detail":"You do not have permission to perform this action."}"#))
            let invalid = try await sim.post(Self.singlePath(uuid), token: IDs.providerToken, #"{"username":"alice","usage":"bad"}"#)
            #expect(invalid.status == 400)
            #expect(jsonEquals(invalid, #"{"usage":["A valid number is required."]}"#))
        }
    }

    /// §2.3 notes / §9 step 3: a staff `date` in another month attaches to (or creates) that month's record.
    @Test func staffDateInAnotherMonthTargetsThatMonth() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "5")
            let answer = try await sim.post(Self.singlePath(uuid), #"{"username":"alice","usage":"2","date":"2026-07-10T10:00:00+00:00"}"#)
            #expect(answer.status == 201)
            let stored = try await sim.storedUsages()
            let byPeriod = Dictionary(uniqueKeysWithValues: stored.map { ($0["billing_period"] as? String ?? "", $0["usage"] as? String ?? "") })
            // The new July record started at 0, so it takes the sum of its user usages.
            #expect(byPeriod == ["2026-07-01": "2.00", "2026-08-01": "5.00"])
            let rows = try await sim.storedUserUsages()
            #expect(rows.first?["billing_period"] as? String == "2026-07-01")
        }
    }

    @Test func providerCannotBackfillUserUsageOfUsageComponent() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "5")
            let answer = try await sim.post(Self.bulkPath(uuid), token: IDs.providerToken,
                                            #"{"usages":[{"username":"alice","usage":"2","date":"2026-07-10T10:00:00+00:00"}]}"#)
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"usages":[{"date":["Service providers can only specify date for limit-based or prepaid billing components when backfilling past billing periods"]}]}"#))
        }
    }

    /// T14: updating an existing row without `usage` fails with a 500 on the singular endpoint (S1).
    @Test func singularUpdateWithoutUsageIsServerError() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "5")
            let create = try await sim.post(Self.singlePath(uuid), #"{"username":"alice"}"#)
            #expect(create.status == 201)
            #expect(try await sim.storedUserUsages().first?["usage"] as? String == "0.00")
            let update = try await sim.post(Self.singlePath(uuid), #"{"username":"alice"}"#)
            #expect(update.status == 500)
        }
    }

    /// S1's 500 follows the row the `date` selects: in another month it is that month's row
    /// (created by an earlier call), and the refused call leaves everything as it was; where that
    /// month has no record yet, the call creates it with a zero row.
    @Test func singularUpdateWithoutUsageInAnotherMonth() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "5")
            let july = "2026-07-15T12:00:00+00:00"
            let created = try await sim.post(Self.singlePath(uuid), "{\"username\":\"alice\",\"usage\":\"2\",\"date\":\"\(july)\"}")
            #expect(created.status == 201)
            let before = (try await sim.storedUsages().count, try await sim.storedUserUsages().count)
            #expect(before == (2, 1))
            let refused = try await sim.post(Self.singlePath(uuid), "{\"username\":\"alice\",\"date\":\"\(july)\"}")
            #expect(refused.status == 500)
            #expect(try await sim.storedUsages().count == 2)
            let rows = try await sim.storedUserUsages()
            #expect(rows.count == 1 && rows.first?["usage"] as? String == "2.00")
            // June has no record: a call without usage creates June's record and a zero row.
            let june = try await sim.post(Self.singlePath(uuid), #"{"username":"alice","date":"2026-06-15T12:00:00+00:00"}"#)
            #expect(june.status == 201)
            let juneRows = try await sim.storedUserUsages().filter { $0["billing_period"] as? String == "2026-06-01" }
            #expect(juneRows.count == 1 && juneRows.first?["usage"] as? String == "0.00")
        }
    }

    @Test func userUsageUsernameFilterIsSubstring() async throws {
        try await withHarness { sim in
            let uuid = try await Self.parent(sim, total: "0")
            _ = try await sim.post(Self.bulkPath(uuid), #"{"usages":[{"username":"alice","usage":"1"},{"username":"malice","usage":"2"},{"username":"bob","usage":"3"}]}"#)
            let answer = try await sim.get("/api/marketplace-component-user-usages/?username=ALICE")
            #expect(answer.array.compactMap { $0["username"] as? String } == ["alice", "malice"])
        }
    }

    /// Legacy switch (§9 "legacy_mode"): no bulk endpoint (Django's HTML 404) and `date` ignored.
    @Test func legacyModeHasNoBulkEndpointAndIgnoresDate() async throws {
        try await withHarness(seed: Fixture.seed(legacy: true)) { sim in
            let dated = try await sim.post(Self.setUsage, "{\"resource\":\"\(IDs.resourceOK)\",\"date\":\"2026-06-15T12:00:00+00:00\",\"usages\":[{\"type\":\"cpu\",\"amount\":\"4\"}]}")
            #expect(dated.status == 201)
            #expect(try await sim.storedUsages().first?["billing_period"] as? String == "2026-08-01")
            let uuid = try #require(try await sim.storedUsages().first?["uuid"] as? String)
            let bulk = try await sim.post(Self.bulkPath(uuid), #"{"usages":[{"username":"alice","usage":"1"}]}"#)
            #expect(bulk.status == 404)
            #expect(bulk.header("Content-Type")?.hasPrefix("text/html") == true)
            let single = try await sim.post(Self.singlePath(uuid), #"{"username":"alice","usage":"1"}"#)
            #expect(single.status == 201)
        }
    }
}
