import Foundation

/// Renders the `date` of usage calls with an explicit UTC offset (`2026-08-15T12:00:00+00:00`).
///
/// Waldur applies its own time zone to a naive datetime, which can move usage into another month
/// (reference trap T2), so the client never sends one.
enum WaldurDateFormat {
    /// Whole seconds (fractions are dropped, as the calendar's components dropped them), in the
    /// proleptic Gregorian calendar, computed from the epoch seconds without a `Calendar`: the
    /// bulk user-usage call renders one per user value.
    static func string(from date: Date) -> String {
        let t = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = t >= 0 ? t / 86_400 : -((-t + 86_399) / 86_400)
        let secs = t - days * 86_400
        // Civil from days (H. Hinnant).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secs / 3_600, 2)):\(pad(secs % 3_600 / 60, 2)):\(pad(secs % 60, 2))+00:00"
    }
}
