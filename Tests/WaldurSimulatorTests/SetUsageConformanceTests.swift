import Foundation
import Testing
import WaldurSimulator

/// Reference §9 `set_usage` steps 1–8, §2.1–2.4, traps T2, T3, T11, T21, T22.
@Suite struct SetUsageConformanceTests {
    static let path = "/api/marketplace-component-usages/set_usage/"

    static func body(resource: String = IDs.resourceOK, date: String? = nil, items: String = #"[{"type":"cpu","amount":"12.50"}]"#) -> String {
        var json = "{\"resource\":\"\(resource)\",\"usages\":\(items)"
        if let date { json += ",\"date\":\"\(date)\"" }
        return json + "}"
    }

    @Test func createdWithEmptyBodyAndStoredInCurrentMonth() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body())
            #expect(answer.status == 201)
            #expect(answer.text.isEmpty)
            let stored = try await sim.storedUsages()
            #expect(stored.count == 1)
            #expect(stored.first?["usage"] as? String == "12.50")
            #expect(stored.first?["billing_period"] as? String == "2026-08-01")
            #expect(stored.first?["type"] as? String == "cpu")
        }
    }

    /// S2 `test_update_usage_if_usage_exists`: 5 then 15 leaves 15 (overwrite, not add).
    @Test func secondPostOverwrites() async throws {
        try await withHarness { sim in
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"5"}]"#))
            let second = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"15"}]"#))
            #expect(second.status == 201)
            let stored = try await sim.storedUsages()
            #expect(stored.count == 1)
            #expect(stored.first?["usage"] as? String == "15.00")
        }
    }

    @Test func componentsLeftOutAreUntouched() async throws {
        try await withHarness { sim in
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1"},{"type":"ram","amount":"2"}]"#))
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"3"}]"#))
            let stored = try await sim.storedUsages()
            let byType = Dictionary(uniqueKeysWithValues: stored.map { ($0["type"] as? String ?? "", $0["usage"] as? String ?? "") })
            #expect(byType == ["cpu": "3.00", "ram": "2.00"])
        }
    }

    @Test func lastDuplicateTypeWins() async throws {
        try await withHarness { sim in
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1"},{"type":"cpu","amount":"9"}]"#))
            let stored = try await sim.storedUsages()
            #expect(stored.map { $0["usage"] as? String } == ["9.00"])
        }
    }

    @Test func usagesMissingIsRequired() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, "{\"resource\":\"\(IDs.resourceOK)\"}")
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"usages":["This field is required."]}"#))
        }
    }

    /// T21: without `Content-Type: application/json` the body is not parsed.
    @Test func withoutJSONContentTypeUsagesAreMissing() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("POST", Self.path, token: IDs.staffToken, json: Self.body(), contentType: nil)
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"usages":["This field is required."]}"#))
        }
    }

    @Test func neitherResourceNorPlanPeriod() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, #"{"usages":[{"type":"cpu","amount":"1"}]}"#)
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"non_field_errors":["Either plan_period or resource should be provided."]}"#))
        }
    }

    @Test func unknownResource() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(resource: "ffffffffffffffffffffffffffffffff"))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"resource":["Object with uuid=ffffffffffffffffffffffffffffffff does not exist."]}"#))
        }
    }

    @Test func dashedResourceUUIDIsAccepted() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(resource: "a0000000-0000-0000-0000-000000000001"))
            #expect(answer.status == 201)
        }
    }

    @Test(arguments: [IDs.resourceErred, IDs.resourceCreating])
    func resourceStateMustAcceptUsage(resource: String) async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(resource: resource))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"resource":["Resource is not in valid state."]}"#))
        }
    }

    @Test func terminatingResourceAcceptsUsage() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(resource: IDs.resourceTerminating))
            #expect(answer.status == 201)
        }
    }

    /// §9 step 4 / T11: invalid types sorted and joined; `fixed` is not reportable; nothing stored.
    @Test func invalidComponentsRejectWholeCall() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1"},{"type":"zeta","amount":"1"},{"type":"fixed_fee","amount":"1"}]"#))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"non_field_errors":["These components are invalid: fixed_fee, zeta."]}"#))
            #expect(try await sim.storedUsages().isEmpty)
        }
    }

    @Test func resourceWithoutPlan() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(resource: IDs.resourceNoPlan))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"non_field_errors":["Resource must have a plan to report usage"]}"#))
        }
    }

    /// §1.1 / S8: decimal places counted from the literal; errors per item with `{}` for valid ones.
    @Test func amountPrecisionRules() async throws {
        try await withHarness { sim in
            let threePlaces = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1.50"},{"type":"ram","amount":"1.500"}]"#))
            #expect(threePlaces.status == 400)
            #expect(jsonEquals(threePlaces, #"{"usages":[{},{"amount":["Ensure that there are no more than 2 decimal places."]}]}"#))

            let whole = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1234567890123456789"}]"#))
            #expect(jsonEquals(whole, #"{"usages":[{"amount":["Ensure that there are no more than 18 digits before the decimal point."]}]}"#))

            let garbage = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"NaN"}]"#))
            #expect(jsonEquals(garbage, #"{"usages":[{"amount":["A valid number is required."]}]}"#))

            let float = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":0.30000000000000004}]"#))
            #expect(float.status == 400)
            #expect(jsonEquals(float, #"{"usages":[{"amount":["Ensure that there are no more than 2 decimal places."]}]}"#))

            let tooManyDigits = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"123456789012345678901"}]"#))
            #expect(jsonEquals(tooManyDigits, #"{"usages":[{"amount":["Ensure that there are no more than 20 digits in total."]}]}"#))

            let missingType = try await sim.post(Self.path, Self.body(items: #"[{"amount":"1"}]"#))
            #expect(jsonEquals(missingType, #"{"usages":[{"type":["This field is required."]}]}"#))
            #expect(try await sim.storedUsages().isEmpty)

            let accepted = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1.5"}]"#))
            #expect(accepted.status == 201)
            #expect(try await sim.storedUsages().first?["usage"] as? String == "1.50")
        }
    }

    /// T3: a future `date` is refused.
    @Test func futureDateIsRefused() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, Self.body(date: "2026-08-15T12:05:00+00:00"))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"date":["Cannot submit usage for future dates"]}"#))
        }
    }

    /// §2.3: a service provider may not backfill usage-billed components.
    @Test func providerBackfillOfUsageComponentIsRefused() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, token: IDs.providerToken, Self.body(date: "2026-07-15T12:00:00+00:00"))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"date":["Service providers can only specify date for limit-based or prepaid billing components when backfilling past billing periods"]}"#))
            #expect(try await sim.storedUsages().isEmpty)
        }
    }

    @Test func providerMayBackfillLimitAndPrepaidComponents() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, token: IDs.providerToken, Self.body(
                date: "2026-07-15T12:00:00+00:00", items: #"[{"type":"storage","amount":"2"},{"type":"license","amount":"3"}]"#))
            #expect(answer.status == 201)
            let stored = try await sim.storedUsages()
            #expect(stored.compactMap { $0["billing_period"] as? String } == ["2026-07-01", "2026-07-01"])
        }
    }

    @Test func providerMayDateUsageInCurrentMonth() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, token: IDs.providerToken, Self.body(date: "2026-08-01T00:00:00+00:00"))
            #expect(answer.status == 201)
        }
    }

    @Test func staffMayBackfillAnyComponent() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, token: IDs.staffToken, Self.body(date: "2026-06-15T12:00:00+00:00"))
            #expect(answer.status == 201)
            let stored = try await sim.storedUsages()
            #expect(stored.first?["billing_period"] as? String == "2026-06-01")
            #expect(stored.first?["date"] as? String == "2026-06-15T12:00:00Z")
        }
    }

    @Test func nonProviderBackfillIsRefused() async throws {
        try await withHarness { sim in
            let answer = try await sim.post(Self.path, token: IDs.outsiderToken, Self.body(date: "2026-07-15T12:00:00+00:00"))
            #expect(answer.status == 400)
            #expect(jsonEquals(answer, #"{"date":["Only staff users and service providers can specify date for backfilling"]}"#))
        }
    }

    /// T22: 401 → 400 → 403. An unauthorised caller with a valid body gets 403, with an invalid body 400.
    @Test func permissionIsCheckedAfterValidation() async throws {
        try await withHarness { sim in
            let valid = try await sim.post(Self.path, token: IDs.outsiderToken, Self.body())
            #expect(valid.status == 403)
            #expect(jsonEquals(valid, #"{"detail":"You do not have permission to perform this action."}"#))
            let invalid = try await sim.post(Self.path, token: IDs.outsiderToken, Self.body(items: #"[{"type":"cpu","amount":"1.001"}]"#))
            #expect(invalid.status == 400)
            let unauthenticated = try await sim.send("POST", Self.path, json: Self.body(items: "[]"))
            #expect(unauthenticated.status == 401)
        }
    }

    /// S2 `test_usage_timezone_billing_period_calculation` / T2: 2025-07-31T21:25Z is August in Tallinn.
    @Test func billingMonthUsesServerTimeZone() async throws {
        try await withHarness(seed: Fixture.seed(timeZone: "Europe/Tallinn"), now: "2025-08-10T10:00:00+00:00") { sim in
            let answer = try await sim.post(Self.path, Self.body(date: "2025-07-31T21:25:00Z"))
            #expect(answer.status == 201)
            #expect(try await sim.storedUsages().first?["billing_period"] as? String == "2025-08-01")
        }
    }

    /// Without `date`, "now" decides the month, so a clock moved past midnight of the 1st opens a new record.
    @Test func clockRolloverStartsNewMonth() async throws {
        try await withHarness(now: "2026-08-31T23:59:00+00:00") { sim in
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"10"}]"#))
            _ = try await sim.send("POST", "/_sim/clock", json: #"{"now":"2026-09-01T00:01:00+00:00"}"#)
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"1"}]"#))
            let stored = try await sim.storedUsages()
            let byPeriod = Dictionary(uniqueKeysWithValues: stored.map { ($0["billing_period"] as? String ?? "", $0["usage"] as? String ?? "") })
            #expect(byPeriod == ["2026-08-01": "10.00", "2026-09-01": "1.00"])
        }
    }

    /// §3.1: list filters and rendering of component usages.
    @Test func componentUsageListFiltersAndRendering() async throws {
        try await withHarness { sim in
            _ = try await sim.post(Self.path, Self.body(date: "2026-07-15T12:00:00+00:00", items: #"[{"type":"cpu","amount":"7"}]"#))
            _ = try await sim.post(Self.path, Self.body(items: #"[{"type":"cpu","amount":"8"},{"type":"ram","amount":"9.1"}]"#))
            let august = try await sim.get("/api/marketplace-component-usages/?resource_uuid=\(IDs.resourceOK)&billing_period=2026-08-01")
            #expect(august.header("X-Result-Count") == "2")
            #expect(august.array.compactMap { $0["type"] as? String } == ["cpu", "ram"])
            #expect(august.array.compactMap { $0["usage"] as? String } == ["8.00", "9.10"])
            let first = try #require(august.array.first)
            #expect(first["billing_period"] as? String == "2026-08-01")
            #expect(first["resource_uuid"] as? String == IDs.resourceOK)
            #expect(first["offering_uuid"] as? String == IDs.offering)
            #expect((first["date"] as? String)?.hasSuffix("Z") == true)
            let notFirstDay = try await sim.get("/api/marketplace-component-usages/?billing_period=2026-08-02")
            #expect(notFirstDay.array.isEmpty)
            let badDate = try await sim.get("/api/marketplace-component-usages/?billing_period=August")
            #expect(jsonEquals(badDate, #"{"billing_period":["Enter a valid date."]}"#))
            let july = try await sim.get("/api/marketplace-component-usages/?offering_uuid=\(IDs.offering)&billing_period_year=2026&billing_period_month=7")
            #expect(july.array.compactMap { $0["usage"] as? String } == ["7.00"])
            let narrowed = try await sim.get("/api/marketplace-component-usages/?field=uuid&field=type&field=usage")
            #expect(narrowed.array.allSatisfy { Set($0.keys) == ["uuid", "type", "usage"] })
        }
    }
}
