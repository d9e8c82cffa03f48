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
    /// `String`: `reckon usage` writes a hundred thousand amounts in a row.
    public func appendText(to out: inout [UInt8]) {
        if hundredths < 0 { out.append(UInt8(ascii: "-")) }
        let mag = hundredths.magnitude
        // Digits backwards into a fixed buffer (an Int128 has at most 39), in 64-bit steps when
        // the magnitude allows, as 128-bit division is several times dearer.
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buf in
            var i = buf.count
            var rest = mag
            func put(_ d: UInt8) { i -= 1; buf[i] = d }
            while rest > UInt128(UInt64.max) {
                let (q, r) = rest.quotientAndRemainder(dividingBy: 10)
                put(UInt8(ascii: "0") + UInt8(r)); rest = q
                if buf.count - i == 2 { put(UInt8(ascii: ".")) }
            }
            var small = UInt64(rest)
            while small > 0 || buf.count - i < 4 {   // at least "0.00"
                put(UInt8(ascii: "0") + UInt8(small % 10)); small /= 10
                if buf.count - i == 2 { put(UInt8(ascii: ".")) }
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i...]))
        }
    }

    public static func < (a: WaldurAmount, b: WaldurAmount) -> Bool { a.hundredths < b.hundredths }
    public static func - (a: WaldurAmount, b: WaldurAmount) -> WaldurAmount { WaldurAmount(hundredths: a.hundredths - b.hundredths) }
}
