import Foundation
import PropertyBased
@testable import ReckonCore
import Testing

@Suite struct MonthCalendarTests {
    let utc = MonthCalendar(timeZoneIdentifier: "UTC")!
    let tallinn = MonthCalendar(timeZoneIdentifier: "Europe/Tallinn")!

    @Test func parsesMonthsStrictly() {
        #expect(BillingMonth(parsing: "2026-11") == BillingMonth(year: 2026, month: 11))
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "2026-00", "", "2026-11-01", "abcd-ef"] {
            #expect(BillingMonth(parsing: bad) == nil, "\(bad)")
        }
        #expect(BillingMonth(year: 2026, month: 12)!.next == BillingMonth(year: 2027, month: 1))
        #expect(BillingMonth(year: 2027, month: 1)!.previous.description == "2026-12")
    }

    // Expected edges computed by hand: 2024-02-01T00:00:00Z = 1706745600, 2024-03-01T00:00:00Z = 1709251200
    // (29 days × 86400 = 2505600 apart: 2024 is a leap year).
    @Test func leapFebruaryInUTC() {
        let w = utc.window(of: BillingMonth(year: 2024, month: 2)!)!
        #expect(w.start == 1_706_745_600)
        #expect(w.end == 1_709_251_200)
        #expect(w.duration == 29 * 86_400)
        #expect(utc.window(of: BillingMonth(year: 2023, month: 2)!)!.duration == 28 * 86_400)
    }

    // Europe/Tallinn: EET (+02) in winter, EEST (+03) from the last Sunday of March (2026-03-29).
    // March 2026 starts at 2026-03-01T00:00+02:00 = 2026-02-28T22:00Z = 1772316000 and ends at
    // 2026-04-01T00:00+03:00 = 2026-03-31T21:00Z = 1774990800: 31 days minus the skipped hour.
    @Test func dstMonthIsAnHourShort() {
        let w = tallinn.window(of: BillingMonth(year: 2026, month: 3)!)!
        #expect(w.start == 1_772_316_000)
        #expect(w.end == 1_774_990_800)
        #expect(w.duration == 31 * 86_400 - 3_600)
        // October 2026 gains the hour back (DST ends 2026-10-25).
        #expect(tallinn.window(of: BillingMonth(year: 2026, month: 10)!)!.duration == 31 * 86_400 + 3_600)
    }

    @Test func monthContainingEdges() {
        let nov = BillingMonth(year: 2026, month: 11)!
        let w = utc.window(of: nov)!
        #expect(utc.month(containing: w.start) == nov)
        #expect(utc.month(containing: w.end - 1) == nov)
        #expect(utc.month(containing: w.end) == nov.next)
        #expect(utc.month(containing: -1) == nil)
    }

    /// Every month edge of the supported years, in zones from UTC−11 to UTC+14 and with DST:
    /// the instant that starts a month is in it, the one before is in the month before, and an
    /// instant anywhere inside lies in its month's window. (The lookup guesses from the mean
    /// month length and steps to the edge; this holds it to the windows, which are read
    /// straight from the edges.)
    @Test(arguments: ["UTC", "Pacific/Pago_Pago", "Pacific/Kiritimati", "Europe/Tallinn", "America/Sao_Paulo"])
    func everyEdgeOfEverySupportedMonthIsFound(zone: String) throws {
        let cal = try #require(MonthCalendar(timeZoneIdentifier: zone))
        var month = try #require(BillingMonth(year: MonthCalendar.firstSupportedYear, month: 1))
        let end = try #require(BillingMonth(year: MonthCalendar.lastSupportedYear, month: 12))
        var previous: BillingMonth?
        var checked = 0
        let months = (MonthCalendar.lastSupportedYear - MonthCalendar.firstSupportedYear + 1) * 12
        for _ in 0..<months {
            let w = try #require(cal.window(of: month))
            #expect(cal.month(containing: w.start) == month, "\(zone) \(month) start")
            #expect(cal.month(containing: w.end - 1) == month, "\(zone) \(month) end - 1")
            #expect(cal.month(containing: w.start + (w.end - w.start) / 2) == month, "\(zone) \(month) middle")
            #expect(cal.month(containing: w.start - 1) == previous, "\(zone) \(month) start - 1")
            previous = month
            month = month.next
            checked += 1
        }
        #expect(checked == months && previous == end)
        let last = try #require(cal.window(of: end))
        #expect(cal.month(containing: last.end) == nil)
    }

    @Test func monthsEndingAt() {
        // 2024-06-15 → [2024-05, 2024-06]; 2024-01-10 → [2023-12, 2024-01] (the site-agent's own cases).
        let june15 = utc.window(of: BillingMonth(year: 2024, month: 6)!)!.start + 14 * 86_400
        #expect(utc.months(endingAt: june15, count: 2).map(\.description) == ["2024-05", "2024-06"])
        let jan10 = utc.window(of: BillingMonth(year: 2024, month: 1)!)!.start + 9 * 86_400
        #expect(utc.months(endingAt: jan10, count: 2).map(\.description) == ["2023-12", "2024-01"])
    }

    @Test func unknownZoneIsRejected() {
        #expect(MonthCalendar(timeZoneIdentifier: "Mars/Olympus") == nil)
    }

    /// Property: the parts forEachMonth yields tile the interval: contiguous, in order, summing to its length.
    @Test func monthPartsTileAnyInterval() async {
        let cal = tallinn
        await propertyCheck(input: Gen.int(in: 1_600_000_000...1_900_000_000), Gen.int(in: 0...200_000_000)) { start, length in
            var total: Int64 = 0
            var cursor = Int64(start)
            cal.forEachMonth(overlapping: Int64(start), Int64(start + length)) { month, part in
                #expect(part.start == cursor)
                #expect(cal.month(containing: part.start) == month)
                #expect(cal.month(containing: part.end - 1) == month)
                cursor = part.end
                total += part.duration
            }
            #expect(total == Int64(length))
        }
    }
}

/// A zone with one fixed offset gets its month edges by arithmetic instead of 2,761 calendar
/// conversions: they must be the calendar's, every one of them; a zone with transitions never
/// takes that path.
@Suite struct FixedOffsetEdgesTests {
    static let range = (MonthCalendar.firstSupportedYear * 12)...(MonthCalendar.lastSupportedYear * 12 + 12)

    @Test(arguments: ["UTC", "GMT", "Etc/GMT-14", "Etc/GMT+12", "Asia/Kolkata"])   // Kolkata: +05:30 since 1945
    func areTheCalendarsEdges(zone: String) throws {
        let tz = try #require(TimeZone(identifier: zone))
        let fixed = try #require(MonthCalendar.fixedOffsetEdges(tz, Self.range))
        let calendar = MonthCalendar.calendarEdges(tz, Self.range)
        #expect(fixed.count == calendar.count)
        let firstDifference = zip(fixed, calendar).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "month ordinal \((firstDifference?.offset ?? 0) + Self.range.lowerBound)")
    }

    @Test(arguments: ["Europe/Tallinn", "America/Sao_Paulo", "Europe/Moscow", "Pacific/Kiritimati"])
    func zonesWithTransitionsUseTheCalendar(zone: String) throws {
        let tz = try #require(TimeZone(identifier: zone))
        #expect(MonthCalendar.fixedOffsetEdges(tz, Self.range) == nil)
    }

    /// Day numbers checked by hand: 1970-01-01 is day 0, 2000-03-01 is day 11,017
    /// (30 years × 365 + 7 leap days + 31 + 29), 1969-12-31 is day −1.
    @Test func dayNumbers() {
        #expect(MonthCalendar.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(MonthCalendar.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(MonthCalendar.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
    }
}
