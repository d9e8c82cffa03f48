import Foundation

/// An exact usage amount with two decimal places, as Waldur stores it.
///
/// Waldur's `amount`/`usage` is a DRF `DecimalField(decimal_places=2, max_digits=20)`: it rejects a
/// third decimal place and answers with decimal strings such as `"120.50"`. Binary floating point
/// cannot represent those values, so the amount is kept as an integer number of hundredths.
public struct WaldurAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value in hundredths of the measured unit (`12.34` is `1234`).
    public let hundredths: Int128

    /// The largest magnitude Waldur accepts: 18 whole digits and 2 decimals.
    public static let maximumHundredths: Int128 = 99_999_999_999_999_999_999

    /// Zero.
    public static let zero = WaldurAmount(uncheckedHundredths: 0)

    private init(uncheckedHundredths: Int128) {
        self.hundredths = uncheckedHundredths
    }

    /// An amount of `hundredths / 100`; nil when it exceeds 18 whole digits.
    public init?(hundredths: Int128) {
        guard hundredths.magnitude <= WaldurAmount.maximumHundredths.magnitude else { return nil }
        self.hundredths = hundredths
    }

    /// Parses a decimal string such as `"120.5"`, `"120.50"` or `"-3"`.
    ///
    /// At most two decimal places and 18 whole digits are accepted, as Waldur's serializer does.
    /// Returns nil for anything else, including exponents and a third decimal place (no rounding).
    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        } else if rest.first == "+" {
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.count <= 18, fraction.count <= 2,
              whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              fraction.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        var value: Int128 = 0
        for digit in whole {
            value = value * 10 + Int128(digit.wholeNumberValue ?? 0)
        }
        let paddedFraction = String(fraction) + String(repeating: "0", count: 2 - fraction.count)
        for digit in paddedFraction {
            value = value * 10 + Int128(digit.wholeNumberValue ?? 0)
        }
        self.hundredths = negative ? -value : value
    }

    /// Parses a decimal string or throws an error naming the field and the bad value.
    public init(parsing text: String, field: String) throws(WaldurError) {
        guard let value = WaldurAmount(text) else {
            throw WaldurError.invalidResponse("\(field): \"\(text)\" is not a decimal with at most 2 places")
        }
        self = value
    }

    /// Converts an exact `Decimal`, rounding half-even to two places when it has more.
    /// Nil when the result has more than 18 whole digits or the decimal is NaN.
    public init?(rounding decimal: Decimal) {
        guard !decimal.isNaN else { return nil }
        var source = decimal
        var rounded = Decimal()
        NSDecimalRound(&rounded, &source, 2, .bankers)
        self.init(NSDecimalNumber(decimal: rounded).stringValue)
    }

    /// The amount as a `Decimal` (exact: two decimal places fit).
    public var decimalValue: Decimal {
        Decimal(string: description, locale: Locale(identifier: "en_US_POSIX")) ?? Decimal(0)
    }

    /// The wire form: always exactly two decimal places, e.g. `"120.50"`, `"-0.05"`.
    public var description: String {
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100
        let cents = Int(magnitude % 100)
        let sign = hundredths < 0 ? "-" : ""
        return "\(sign)\(whole).\(cents < 10 ? "0" : "")\(cents)"
    }

    public static func < (lhs: WaldurAmount, rhs: WaldurAmount) -> Bool {
        lhs.hundredths < rhs.hundredths
    }

    /// The sum, or nil when it exceeds Waldur's range.
    public static func sum(_ amounts: [WaldurAmount]) -> WaldurAmount? {
        var total: Int128 = 0
        for amount in amounts {
            total += amount.hundredths
            guard total.magnitude <= maximumHundredths.magnitude else { return nil }
        }
        return WaldurAmount(hundredths: total)
    }
}
