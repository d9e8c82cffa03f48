import Foundation

/// Date handling as Waldur does it: ISO-8601 input (a naive value is read in the server's time
/// zone), `Z`-suffixed output, and billing months computed in the server's time zone.
enum SimDateTime {
    /// DRF's message for an unparseable datetime.
    static let wrongFormat =
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."

    /// Parses Django's `parse_datetime` forms: `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`.
    static func parse(_ text: String, naiveZone: TimeZone) -> Date? {
        let trimmed = text.trimmingWhitespace()
        let chars = Array(trimmed)
        var index = 0
        func number(_ count: ClosedRange<Int>) -> Int? {
            var digits = ""
            while index < chars.count, chars[index].isASCIIDigit, digits.count < count.upperBound {
                digits.append(chars[index])
                index += 1
            }
            return count.contains(digits.count) ? Int(digits) : nil
        }
        func expect(_ char: Character) -> Bool {
            guard index < chars.count, chars[index] == char else { return false }
            index += 1
            return true
        }
        guard let year = number(4...4), expect("-"), let month = number(1...2), expect("-"),
              let day = number(1...2) else { return nil }
        guard index < chars.count, chars[index] == "T" || chars[index] == " " else { return nil }
        index += 1
        guard let hour = number(1...2), expect(":"), let minute = number(1...2) else { return nil }
        var second = 0
        var nanos = 0
        if expect(":") {
            guard let value = number(1...2) else { return nil }
            second = value
            if index < chars.count, chars[index] == "." || chars[index] == "," {
                index += 1
                var fraction = ""
                while index < chars.count, chars[index].isASCIIDigit {
                    if fraction.count < 6 { fraction.append(chars[index]) }
                    index += 1
                }
                guard !fraction.isEmpty else { return nil }
                nanos = (Int(fraction + String(repeating: "0", count: 6 - fraction.count)) ?? 0) * 1000
            }
        }
        var zone = naiveZone
        if index < chars.count {
            if chars[index] == "Z" || chars[index] == "z" {
                index += 1
                zone = TimeZone(secondsFromGMT: 0) ?? naiveZone
            } else if chars[index] == "+" || chars[index] == "-" {
                let sign = chars[index] == "-" ? -1 : 1
                index += 1
                guard let offsetHours = number(2...2) else { return nil }
                var offsetMinutes = 0
                if index < chars.count {
                    _ = expect(":")
                    guard let value = number(2...2) else { return nil }
                    offsetMinutes = value
                }
                guard let fixed = TimeZone(secondsFromGMT: sign * (offsetHours * 3600 + offsetMinutes * 60)) else {
                    return nil
                }
                zone = fixed
            } else {
                return nil
            }
        }
        guard index == chars.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 60 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(
            calendar: calendar, timeZone: zone, year: year, month: month, day: day, hour: hour, minute: minute,
            second: second, nanosecond: nanos)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return date
    }

    /// `2026-08-15T12:00:00Z`, with `.ffffff` when there are microseconds (DRF's rendering).
    static func render(_ date: Date) -> String {
        let calendar = utcCalendar
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let micros = ((parts.nanosecond ?? 0) + 500) / 1000
        let base = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return micros == 0 || micros >= 1_000_000 ? base + "Z" : base + String(format: ".%06d", micros) + "Z"
    }

    /// The billing month (first day) of `date` in `zone`: Waldur's `month_start(localtime(date))`.
    static func billingPeriod(of date: Date, in zone: TimeZone) -> SimBillingPeriod {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month], from: date)
        return SimBillingPeriod(year: parts.year ?? 1970, month: parts.month ?? 1)
    }

    /// The date part of `date` in `zone` as `YYYY-MM-DD` (for `date_after`/`date_before`).
    static func day(of date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }

    /// Parses a `YYYY-MM-DD` date filter value; nil when malformed (Django: "Enter a valid date.").
    static func parseDay(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: utcCalendar) else { return nil }
        return (year, month, day)
    }
}
