import Foundation

/// Renders the `date` of usage calls with an explicit UTC offset (`2026-08-15T12:00:00+00:00`).
///
/// Waldur applies its own time zone to a naive datetime, which can move usage into another month
/// (reference trap T2), so the client never sends one.
enum WaldurDateFormat {
    static func string(from date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}
