import Foundation

/// A billing month; Waldur stores it as its first day.
struct SimBillingPeriod: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    let year: Int
    let month: Int

    init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM-01` (any other day is refused).
    init?(firstDay text: String) {
        guard let parsed = SimDateTime.parseDay(text), parsed.day == 1 else { return nil }
        self.init(year: parsed.year, month: parsed.month)
    }

    /// `YYYY-MM-01`.
    var description: String { String(format: "%04d-%02d-01", year, month) }

    static func < (lhs: SimBillingPeriod, rhs: SimBillingPeriod) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = SimBillingPeriod(firstDay: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not YYYY-MM-01")
        }
        self = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
