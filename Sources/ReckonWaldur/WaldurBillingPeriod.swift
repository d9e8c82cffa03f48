import Foundation

/// A Waldur billing period: one calendar month.
///
/// Waldur stores `billing_period` as the first day of the month (`YYYY-MM-01`) and filters on that
/// exact date, so the client never handles arbitrary days.
public struct WaldurBillingPeriod: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// A month; nil unless `month` is 1...12 and `year` is 1...9999.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses Waldur's `YYYY-MM-DD` rendering; the day must be `01`.
    public init?(firstDay text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2] == "01",
              let year = Int(parts[0]), let month = Int(parts[1])
        else { return nil }
        self.init(year: year, month: month)
    }

    /// `YYYY-MM-01`, the value of the `billing_period` filter.
    public var firstDay: String {
        String(format: "%04d-%02d-01", year, month)
    }

    /// `YYYY-MM`.
    public var description: String {
        String(format: "%04d-%02d", year, month)
    }

    /// The following month.
    public var next: WaldurBillingPeriod {
        month == 12
            ? WaldurBillingPeriod(uncheckedYear: year + 1, month: 1)
            : WaldurBillingPeriod(uncheckedYear: year, month: month + 1)
    }

    /// The preceding month.
    public var previous: WaldurBillingPeriod {
        month == 1
            ? WaldurBillingPeriod(uncheckedYear: year - 1, month: 12)
            : WaldurBillingPeriod(uncheckedYear: year, month: month - 1)
    }

    private init(uncheckedYear: Int, month: Int) {
        self.year = uncheckedYear
        self.month = month
    }

    public static func < (lhs: WaldurBillingPeriod, rhs: WaldurBillingPeriod) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }
}
