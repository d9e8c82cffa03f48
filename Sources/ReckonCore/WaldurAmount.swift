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
        var text: [UInt8] = []
        appendText(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the text form (``description``'s ASCII bytes) to `out`, without building a
    /// `String`.
    public func appendText(to out: inout [UInt8]) {
        let n = textCount
        let from = out.count
        out.append(contentsOf: repeatElement(0, count: n))
        out.withUnsafeMutableBufferPointer { buf in
            if let base = buf.baseAddress { writeText(endingAt: base + from + n) }
        }
    }

    /// The length of the text form in bytes: the digits (at least three: `"0.00"`), the point,
    /// and the sign of a negative amount.
    public var textCount: Int {
        var rest = hundredths.magnitude
        var digits = 1
        while rest > UInt128(UInt64.max) { rest /= 10; digits += 1 }
        var small = UInt64(rest)
        while small >= 10 { small /= 10; digits += 1 }
        return max(digits, 3) + 1 + (hundredths < 0 ? 1 : 0)
    }

    /// Writes the text form into the ``textCount`` bytes that end just before `end`, last digit
    /// first: `reckon usage` writes each of a hundred thousand amounts straight into its place
    /// at the end of a line, right-aligned.
    public func writeText(endingAt end: UnsafeMutablePointer<UInt8>) {
        var at = end
        var written = 0
        func put(_ d: UInt8) {
            at -= 1; at.pointee = d; written += 1
            if written == 2 { at -= 1; at.pointee = UInt8(ascii: ".") }
        }
        // In 64-bit steps when the magnitude allows, as 128-bit division is several times dearer.
        var rest = hundredths.magnitude
        while rest > UInt128(UInt64.max) {
            let (q, r) = rest.quotientAndRemainder(dividingBy: 10)
            put(UInt8(ascii: "0") + UInt8(r)); rest = q
        }
        var small = UInt64(rest)
        while small > 0 || written < 3 {   // at least "0.00"
            put(UInt8(ascii: "0") + UInt8(small % 10)); small /= 10
        }
        if hundredths < 0 { at -= 1; at.pointee = UInt8(ascii: "-") }
    }

    public static func < (a: WaldurAmount, b: WaldurAmount) -> Bool { a.hundredths < b.hundredths }
    public static func - (a: WaldurAmount, b: WaldurAmount) -> WaldurAmount { WaldurAmount(hundredths: a.hundredths - b.hundredths) }
}
