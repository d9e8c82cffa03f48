import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// `reckon audit` on a known multi-month history (``AuditFixture``): lineage, totals, series and
/// the JSON document's shape and key order.
@Suite struct AuditTests {
    func json(_ report: AuditReport) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(AuditJSON.render(report).utf8)) as? [String: Any])
    }

    @Test func novemberLineageTotalsAndSubmissions() throws {
        let (ledger, seq) = try AuditFixture.build()
        let report = try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: "proj_x", month: AuditFixture.month("2026-11"))
        let doc = try json(report)

        #expect(doc["account"] as? String == "proj_x")
        #expect(doc["month"] as? String == "2026-11")
        // Foundation may spell UTC "GMT"; the audit shows the zone the settings hold.
        let zone = AuditFixture.settings.calendar.timeZoneIdentifier
        #expect(doc["time_zone"] as? String == zone)
        #expect(doc["config_fingerprint"] as? String == "v1;tz=\(zone);tres=alloc;components=cpu:60,mem:61440")
        let window = try #require(doc["window"] as? [String: Any])
        #expect(window["start"] as? Int == 1_793_491_200 && window["end"] as? Int == 1_796_083_200)

        // The upper-case backend_id PROJ_X is the lower-case account proj_x.
        let resources = try #require(doc["resources"] as? [[String: Any]])
        #expect(resources.count == 1)
        #expect(resources[0]["uuid"] as? String == AuditFixture.resource && resources[0]["primary"] as? Bool == true)
        #expect(resources[0]["backend_id"] as? String == "PROJ_X")

        // Totals: 24 h of job 5 + 26 h of job 6 (corrected from 30), confirmed after the decrease.
        let totals = try #require(doc["totals"] as? [[String: Any]])
        #expect(totals.map { $0["component"] as? String } == ["cpu", "mem"])
        #expect(totals[0]["native"] as? String == String(50 * 3600))
        #expect(totals[0]["desired"] as? String == "50.00" && totals[0]["confirmed"] as? String == "50.00")
        #expect(totals[0]["agrees"] as? Bool == true)

        // Users: alice 24 (and the user value a read-back found), bob 26 with none confirmed.
        let users = try #require(doc["users"] as? [[String: Any]]).filter { $0["component"] as? String == "cpu" }
        #expect(users.map { $0["user"] as? String } == ["alice", "bob"])
        #expect(users[0]["desired"] as? String == "24.00" && users[0]["confirmed"] as? String == "24.00")
        #expect(users[1]["desired"] as? String == "26.00" && users[1]["confirmed"] is NSNull)

        // Contributions: job 5 (split across October and November) and job 6 with its old version.
        let runs = try #require(doc["contributions"] as? [[String: Any]])
        #expect(runs.map { $0["job_id"] as? String } == ["5", "6"])
        let job5 = try #require(runs[0]["latest"] as? [String: Any])
        #expect((job5["native"] as? [String: String])?["cpu"] == String(2 * 12 * 3600))
        #expect((job5["amounts"] as? [String: String]) == ["cpu": "24.00", "mem": "24.00"])
        let job6 = try #require(runs[1]["latest"] as? [String: Any])
        #expect(job6["seq"] as? Int == Int(seq.corrected))
        #expect((job6["amounts"] as? [String: String])?["cpu"] == "26.00")
        let old = try #require((runs[1]["superseded"] as? [[String: Any]])?.first)
        #expect(job6["supersedes"] as? Int == old["seq"] as? Int)
        #expect((old["amounts"] as? [String: String])?["cpu"] == "30.00")
        #expect((doc["projection_check"] as? [String: Any])?["agrees"] as? Bool == true)

        // Submissions: the first (54) and the decrease (54 → 50) naming the corrected run as cause.
        let subs = try #require(doc["submissions"] as? [[String: Any]])
        #expect(subs.map { $0["seq"] as? Int } == [Int(seq.novemberFirst), Int(seq.novemberSecond)])
        #expect(subs.allSatisfy { $0["status"] as? String == "confirmed" && $0["kind"] as? String == "set_usage" })
        let second = subs[1]
        #expect(second["cause"] as? [Int] == [Int(seq.corrected)])
        #expect(second["date"] as? Int == Int(AuditFixture.t("2026-12-01T12:00:00Z")) && second["date_utc"] as? String == "2026-12-01T12:00:00Z")
        let items = try #require(second["items"] as? [[String: Any]])
        #expect(items[0]["amount"] as? String == "50.00" && items[0]["based_on"] as? String == "54.00" && items[0]["decrease"] as? Bool == true)
        let config = try #require(second["config"] as? [String: Any])
        #expect(config["time_zone"] as? String == zone && config["tres_source"] as? String == "alloc")
        #expect(config["unit_factors"] as? [String: String] == ["cpu": "60", "mem": "61440"])
        #expect(config["matches_current"] as? Bool == true)
        #expect((second["outcome"] as? [String: Any])?["result"] as? String == "accepted")
        #expect((second["confirmation"] as? [String: Any])?["agreed"] as? Bool == true)
        // The first was sent after the observation of 2026-11-05.
        #expect((subs[0]["after_sacct_observation"] as? [String: Any])?["observed_at_utc"] as? String == "2026-11-05T00:00:00Z")

        // The read-back that found alice's value; the other resource's value is not this audit's.
        let observations = try #require(doc["observations"] as? [[String: Any]])
        #expect(observations.count == 1 && observations[0]["seq"] as? Int == Int(seq.observation))
        #expect((observations[0]["values"] as? [[String: Any]])?.count == 1)
    }

    @Test func seriesCoversEveryMonthOfTheResource() throws {
        let (ledger, _) = try AuditFixture.build()
        let report = try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: "PROJ_X", month: AuditFixture.month("2026-11"), component: "cpu")
        let series = report.series.map { "\($0.month) \($0.desired?.description ?? "-") \($0.confirmed?.description ?? "-")" }
        #expect(series == ["2026-07 40.00 40.00", "2026-08 25.00 25.00", "2026-09 60.00 70.00",
                           "2026-10 24.00 -", "2026-11 50.00 50.00", "2026-12 72.00 -"])
        #expect(report.components.map(\.name) == ["cpu"])
        #expect(report.totals.count == 1)
    }

    @Test func aRunMovedToAnotherAccountStaysInTheLineageButContributesNothing() throws {
        let (ledger, seq) = try AuditFixture.build()
        let report = try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: AuditFixture.resource, month: AuditFixture.month("2026-09"))
        #expect(report.account == "proj_x")   // found by UUID
        let moved = try #require(report.contributions.first { $0.jobID == "4" })
        #expect(!moved.contributesNow)
        #expect(moved.latest.sequence == seq.moved && moved.latest.account == "proj_y" && moved.latest.share.native.isEmpty)
        #expect(moved.superseded.first?.share.amounts["cpu"] == AuditFixture.amount("10.00"))
        let cpu = try #require(report.totals.first { $0.component == "cpu" })
        #expect(cpu.desired == AuditFixture.amount("60.00") && cpu.confirmed == AuditFixture.amount("70.00") && !cpu.agrees)
        #expect(report.projectionCheck.agrees)
    }

    @Test func aRunningRunCountsToTheLastObservation() throws {
        let (ledger, _) = try AuditFixture.build()
        let report = try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: "proj_x", month: AuditFixture.month("2026-12"))
        let run = try #require(report.contributions.first)
        #expect(run.latest.end == nil && run.latest.countedUntil == AuditFixture.t("2026-12-02T00:00:00Z"))
        #expect(run.latest.share.amounts["cpu"] == AuditFixture.amount("72.00"))
        #expect(report.submissions.isEmpty)
        #expect(report.totals.first?.confirmed == nil)
    }

    @Test func unknownComponentsAndAccountsAreExplained() throws {
        let (ledger, _) = try AuditFixture.build()
        let q = AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
        #expect(throws: AuditError.unknownComponent("gres/gpu", known: ["cpu", "mem"])) {
            try q.audit(resource: "proj_x", month: AuditFixture.month("2026-11"), component: "gres/gpu")
        }
        let none = try q.audit(resource: "nobody", month: AuditFixture.month("2026-11"))
        #expect(none.resources.isEmpty && none.contributions.isEmpty && none.submissions.isEmpty)
        #expect(none.notes.contains { $0.contains("no Waldur resource with backend_id nobody") })
        #expect(none.series.map { "\($0.month) \($0.component) \($0.desired?.description ?? "-")" } == ["2026-11 cpu 0.00", "2026-11 mem 0.00"])
    }

    @Test func jsonKeysComeInTheDocumentedOrder() throws {
        let (ledger, _) = try AuditFixture.build()
        let text = AuditJSON.render(try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: "proj_x", month: AuditFixture.month("2026-11")))
        let keys = ["audit_format", "account", "month", "window", "time_zone", "tres_source", "component_filter", "event_count", "offering",
                    "config_fingerprint", "components", "resources", "observed_until", "totals", "users", "contributions",
                    "projection_check", "submissions", "observations", "held", "series", "notes"]
        let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 }.sorted() == positions.compactMap { $0 })
        #expect(!text.contains("\n"))
    }

    @Test func htmlIsSelfContainedWithOneChartPerComponent() throws {
        let (ledger, _) = try AuditFixture.build()
        let report = try AuditQuery(ledger: ledger, offerings: [AuditFixture.offeringConfig])
            .audit(resource: "proj_x", month: AuditFixture.month("2026-11"))
        let html = AuditHTML.render(report)
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 2)
        #expect(html.components(separatedBy: "class=\"bar desired\"").count - 1 == 12)     // 6 months × 2 components
        #expect(html.components(separatedBy: "class=\"bar confirmed\"").count - 1 == 8)    // 4 confirmed months × 2
        #expect(!html.contains("<script") && !html.contains("http://127") && !html.contains("src=") && !html.contains("href="))
        let text = AuditText.render(report)
        #expect(text.contains("#\(report.submissions[1].sequence) CONFIRMED set_usage"))
    }
}
