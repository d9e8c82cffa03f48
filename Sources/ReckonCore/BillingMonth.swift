/// A calendar month as Waldur bills it (`billing_period` = the first day of the month).
///
/// It is a label only; which instants belong to it depends on a time zone, which
/// ``MonthCalendar`` supplies. Ordered, so months can be ranged over.
public struct BillingMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// Creates a month; `month` is 1...12.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM` strictly (four-digit year, two-digit month).
    public init?(parsing text: some StringProtocol) {
        let u = Array(text.utf8)
        guard u.count == 7, u[4] == UInt8(ascii: "-") else { return nil }
        var y = 0, m = 0
        for i in 0..<4 {
            guard let d = digitValue(u[i]) else { return nil }
            y = y * 10 + d
        }
        for i in 5..<7 {
            guard let d = digitValue(u[i]) else { return nil }
            m = m * 10 + d
        }
        self.init(year: y, month: m)
    }

    /// Months since year 0, a dense ordinal used as a compact key.
    public var ordinal: Int { year * 12 + (month - 1) }

    public init?(ordinal: Int) {
        guard ordinal >= 0 else { return nil }
        self.init(year: ordinal / 12, month: ordinal % 12 + 1)
    }

    public var next: BillingMonth { BillingMonth(ordinal: ordinal + 1) ?? self }
    public var previous: BillingMonth { BillingMonth(ordinal: ordinal - 1) ?? self }

    /// `YYYY-MM`.
    public var description: String {
        let y = String(year)
        let yy = String(repeating: "0", count: Swift.max(0, 4 - y.count)) + y
        return month < 10 ? "\(yy)-0\(month)" : "\(yy)-\(month)"
    }

    /// `YYYY-MM-01`, the form Waldur's `billing_period` filters take.
    public var firstDayString: String { description + "-01" }

    public static func < (a: BillingMonth, b: BillingMonth) -> Bool { a.ordinal < b.ordinal }
}

@inline(__always)
func digitValue(_ c: UInt8) -> Int? {
    (c >= 48 && c <= 57) ? Int(c - 48) : nil
}
