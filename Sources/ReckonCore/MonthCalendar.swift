import Foundation

/// Maps instants to billing months, and months to half-open windows, in one explicit time zone.
///
/// The month edges are the first instant of the 1st day at local midnight in `timeZone`
/// (DST and leap years are Foundation's `Calendar` business; a zone with one fixed offset is
/// computed by arithmetic, which tests hold to the calendar). They are computed once, at
/// construction, for 1970-01 ... 2199-12 and looked up by binary search afterwards, so the
/// projections pay no calendar cost per job. Construction reads no clock.
public struct MonthCalendar: Sendable {
    public let timeZone: TimeZone
    /// `edges[i]` is the start of month `firstOrdinal + i`; one more edge closes the last month.
    private let edges: [EpochSeconds]
    private let firstOrdinal: Int

    public static let firstSupportedYear = 1970
    public static let lastSupportedYear = 2199

    /// Creates the calendar for an IANA zone name such as `Europe/Tallinn` or `UTC`.
    /// Returns nil for an unknown zone (never silently falls back).
    public init?(timeZoneIdentifier: String) {
        guard let tz = TimeZone(identifier: timeZoneIdentifier) else { return nil }
        self.init(timeZone: tz, name: timeZoneIdentifier)
    }

    public init(timeZone: TimeZone, name: String? = nil) {
        self.timeZone = timeZone
        self.timeZoneIdentifier = name ?? timeZone.identifier
        let first = Self.firstSupportedYear * 12              // ordinal of January of the first year
        let last = Self.lastSupportedYear * 12 + 12           // ordinal of the month after the last December
        self.edges = Self.fixedOffsetEdges(timeZone, first...last) ?? Self.calendarEdges(timeZone, first...last)
        self.firstOrdinal = first
    }

    /// Each month's first instant from Foundation's calendar (the definition).
    static func calendarEdges(_ timeZone: TimeZone, _ ordinals: ClosedRange<Int>) -> [EpochSeconds] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        var edges: [EpochSeconds] = []
        edges.reserveCapacity(ordinals.count)
        for ord in ordinals {
            var dc = DateComponents()
            dc.year = ord / 12
            dc.month = ord % 12 + 1
            dc.day = 1
            dc.hour = 0
            dc.minute = 0
            dc.second = 0
            // A zone whose midnight does not exist on that day (a DST jump at 00:00) yields the
            // first instant that does exist, which is still the first instant of the day.
            let date = cal.date(from: dc) ?? Date(timeIntervalSince1970: 0)
            edges.append(EpochSeconds(date.timeIntervalSince1970.rounded(.down)))
        }
        return edges
    }

    /// The same edges by arithmetic, for a zone whose offset never changes (UTC, `Etc/GMT-3`):
    /// local midnight of the 1st is the proleptic Gregorian day number times 86,400, less the
    /// offset. Nil for any zone with a transition from 1970 on — its edges are the calendar's.
    /// (2,761 calendar conversions were ~1 ms of every command, with the calendar set up.)
    static func fixedOffsetEdges(_ timeZone: TimeZone, _ ordinals: ClosedRange<Int>) -> [EpochSeconds]? {
        let start = Date(timeIntervalSince1970: -2 * 86_400)
        let offset = timeZone.secondsFromGMT(for: start)
        guard timeZone.nextDaylightSavingTimeTransition(after: start) == nil,
              timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: 7_258_118_400)) == offset   // 2200-01-01T00:00Z
        else { return nil }
        return ordinals.map { EpochSeconds(Self.daysFromCivil(year: $0 / 12, month: $0 % 12 + 1, day: 1)) * 86_400 - EpochSeconds(offset) }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400                                            // [0, 399]
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1  // [0, 365]
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy                    // [0, 146096]
        return era * 146_097 + doe - 719_468
    }

    /// The zone's name as configured (Foundation on Linux reports `UTC` as `GMT`; fingerprints
    /// and output keep the operator's spelling).
    public let timeZoneIdentifier: String

    /// The half-open window `[first instant, first instant of next month)` of `month`,
    /// or nil outside the supported years.
    public func window(of month: BillingMonth) -> TimeWindow? {
        let i = month.ordinal - firstOrdinal
        guard i >= 0, i + 1 < edges.count else { return nil }
        return TimeWindow(start: edges[i], end: edges[i + 1])
    }

    /// The month containing instant `t`, or nil outside the supported years.
    public func month(containing t: EpochSeconds) -> BillingMonth? {
        guard let i = edgeIndex(containing: t) else { return nil }
        return BillingMonth(ordinal: firstOrdinal + i)
    }

    /// The mean Gregorian month in seconds (146,097 days per 400 years, over 4,800 months).
    static let meanMonthSeconds: EpochSeconds = 2_629_746

    /// Index into `edges` of the month containing `t`: guessed from the mean month length —
    /// real edges stay within a few days of it, so the guess is at most one month off — then
    /// stepped to the edge that starts the month (exact whatever the guess; this runs for every
    /// run imported and replayed, where a binary search over the 2,760 edges took 12 steps).
    @usableFromInline
    func edgeIndex(containing t: EpochSeconds) -> Int? {
        guard let first = edges.first, let last = edges.last, t >= first, t < last else { return nil }
        var i = min(Int((t - first) / Self.meanMonthSeconds), edges.count - 2)
        while edges[i] > t { i -= 1 }          // edges[0] = first <= t stops it
        while edges[i + 1] <= t { i += 1 }     // edges[count - 1] = last > t stops it
        return i
    }

    /// Calls `body` with each month that overlaps `[start, end)` and the overlapping part,
    /// in order. The parts tile the clipped interval exactly.
    public func forEachMonth(overlapping start: EpochSeconds, _ end: EpochSeconds,
                             _ body: (BillingMonth, TimeWindow) throws -> Void) rethrows {
        guard end > start, let last = edges.last, let first = edges.first else { return }
        let s = Swift.max(start, first)
        let e = Swift.min(end, last)
        guard e > s, var i = edgeIndex(containing: s) else { return }
        while i + 1 < edges.count && edges[i] < e {
            let ws = Swift.max(s, edges[i]), we = Swift.min(e, edges[i + 1])
            if we > ws, let m = BillingMonth(ordinal: firstOrdinal + i), let w = TimeWindow(start: ws, end: we) {
                try body(m, w)
            }
            i += 1
        }
    }

    /// The month `n` months before the month containing `t` (n = 0 is that month).
    public func months(endingAt t: EpochSeconds, count n: Int) -> [BillingMonth] {
        guard let current = month(containing: t), n > 0 else { return [] }
        return (0..<n).reversed().compactMap { BillingMonth(ordinal: current.ordinal - $0) }
    }
}
