/// An amount in a Waldur component's unit, held exactly as a whole number of hundredths.
///
/// Waldur stores usage as `DecimalField(decimal_places=2)`, so reckon computes every amount as an
/// exact rational, rounds it half-to-even to hundredths once, at the end, per key, and compares
/// and sends exactly that. Text form is always two decimals (`"12.35"`, `"0.00"`, `"-1.20"`).
public struct WaldurAmount: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hundredths: Int128

    public init(hundredths: Int128) { self.hundredths = hundredths }

    public static let zero = WaldurAmount(hundredths: 0)

    /// Parses a decimal string as Waldur returns it (`"12.3"`, `"12.345600"`, `"7"`); more than two
    /// significant decimals are rounded half-even (Waldur never stores them).
    public init?(parsing text: String) {
        var s = text.trimmingSpaces
        var negative = false
        if s.hasPrefix("-") { negative = true; s.removeFirst() }
        guard let d = ExactDecimal(parsing: s) else { return nil }
        var den: Int128 = 1
        var num = d.digits * 100
        for _ in 0..<d.scale { den *= 10 }
        num = roundHalfEven(num, den)
        hundredths = negative ? -num : num
    }

    public var description: String {
        let neg = hundredths < 0
        let mag = neg ? -hundredths : hundredths
        let whole = mag / 100, frac = Int(mag % 100)
        return (neg ? "-" : "") + String(whole) + "." + (frac < 10 ? "0" : "") + String(frac)
    }

    public static func < (a: WaldurAmount, b: WaldurAmount) -> Bool { a.hundredths < b.hundredths }
    public static func - (a: WaldurAmount, b: WaldurAmount) -> WaldurAmount { WaldurAmount(hundredths: a.hundredths - b.hundredths) }
}
