import ReckonCore
import ReckonEngine
import Testing

/// The `date` rule, with instants worked out by hand.
@Suite struct SubmissionDateTests {
    let nov = BillingMonth(year: 2026, month: 11)!, oct = BillingMonth(year: 2026, month: 10)!
    // 2026-11-01T00:00Z = 1793491200; 2026-10-01T00:00Z = 1790812800; 2026-12-01T00:00Z = 1796083200

    @Test func pastMonthsGetTheFifteenthAtNoonUTC() {
        // 2026-10-15T12:00Z = 1790812800 + 14 × 86400 + 43200 = 1792065600
        let mid: EpochSeconds? = 1_792_065_600
        #expect(SubmissionDate.choose(month: oct, currentMonth: nov, now: 1_795_000_000, serverCalendar: nil) == mid)
    }

    @Test func theCurrentMonthWaitsUntilItHasBegunEverywhere() {
        // 11 hours into November UTC: in UTC−12 it is still October.
        #expect(SubmissionDate.choose(month: nov, currentMonth: nov, now: 1_793_491_200 + 11 * 3600, serverCalendar: nil) == nil)
        // 13 hours in: now − 5 min is after start + 12 h.
        let t: EpochSeconds = 1_793_491_200 + 13 * 3600
        let minus: EpochSeconds? = t - 300
        #expect(SubmissionDate.choose(month: nov, currentMonth: nov, now: t, serverCalendar: nil) == minus)
        // With the server's zone known (UTC), ten minutes into the month is enough.
        let early: EpochSeconds? = 1_793_491_200 + 300
        #expect(SubmissionDate.choose(month: nov, currentMonth: nov, now: 1_793_491_200 + 600, serverCalendar: MonthCalendar(timeZoneIdentifier: "UTC")) == early)
    }

    @Test func theEndOfTheMonthStaysInsideItEverywhere() {
        // Two hours before December UTC, UTC+14 is already in December: cap at end − 14 h − 1 s.
        let now: EpochSeconds = 1_796_083_200 - 2 * 3600
        let capped: EpochSeconds? = 1_796_083_200 - 14 * 3600 - 1
        #expect(SubmissionDate.choose(month: nov, currentMonth: nov, now: now, serverCalendar: nil) == capped)
    }
}
