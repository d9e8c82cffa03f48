import Foundation
import ReckonCore

/// Instants as the audit shows them to people: ISO 8601 in the configured time zone
/// (`2026-11-27 02:30:00 +00:00`), so the month edges read as the reconciler used them.
struct AuditTime {
    let formatter: DateFormatter

    init(timeZone: String) {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        formatter = f
    }

    func string(_ t: EpochSeconds) -> String {
        formatter.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}
