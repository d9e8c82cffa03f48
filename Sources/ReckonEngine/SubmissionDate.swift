import ReckonCore

/// Chooses the `date` sent with a write so that Waldur files it in the intended month whatever
/// the server's TIME_ZONE (the reference's trap T2), and never in the future (T3).
///
/// In a zone with offset o, month M is `[start_UTC(M) − o, end_UTC(M) − o)`; across all zones
/// (UTC−12 … UTC+14) the instants that belong to M everywhere are
/// `[start_UTC(M) + 12 h, end_UTC(M) − 14 h)`. When the server's zone is configured
/// (`reckon.waldur_time_zone`) its own month window is used instead.
/// - A past month: the 15th at 12:00 UTC (inside both).
/// - The current month: "now" less 5 minutes for clock skew, capped to the safe window; in the
///   first hours of a month, before it has begun everywhere, there is no safe instant yet, and
///   the current month's writes wait for a later tick.
public enum SubmissionDate {
    public static let skewMargin: Int64 = 300
    static let utc = MonthCalendar(timeZoneIdentifier: "UTC")

    public static func choose(month: BillingMonth, currentMonth: BillingMonth, now: EpochSeconds,
                              serverCalendar: MonthCalendar?) -> EpochSeconds? {
        guard let utc, let uw = utc.window(of: month) else { return nil }
        let lo: EpochSeconds, hi: EpochSeconds
        if let server = serverCalendar, let sw = server.window(of: month) {
            (lo, hi) = (sw.start, sw.end)
        } else {
            (lo, hi) = (uw.start + 12 * 3_600, uw.end - 14 * 3_600)
        }
        if month < currentMonth {
            let mid = uw.start + 14 * 86_400 + 12 * 3_600
            return min(max(mid, lo), hi - 1)
        }
        let t = min(now - skewMargin, hi - 1)
        return t >= lo ? t : nil
    }
}
