/// A non-negative exact decimal number `digits / 10^scale`, parsed from text without ever
/// passing through a binary floating-point value. Used for `unit_factor` (e.g. `60000`, `61440`,
/// `0.5`) so that conversions to Waldur units are exact rational arithmetic.
public struct ExactDecimal: Hashable, Sendable, CustomStringConvertible {
    public let digits: Int128
    public let scale: Int

    public init(digits: Int128, scale: Int) {
        self.digits = digits
        self.scale = scale
    }

    /// Parses `123`, `123.45`, `1e3`, `.5`; rejects signs other than `+`, NaN and infinities.
    public init?(parsing text: String) {
        var s = Substring(text.trimmingSpaces)
        if s.hasPrefix("+") { s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let ex = Int(s[s.index(after: e)...]), abs(ex) <= 30 else { return nil }
            exponent = ex
            s = s[s.startIndex..<e]
        }
        var digits: Int128 = 0
        var scale = 0
        var seenDot = false, any = false
        for c in s.utf8 {
            if c == UInt8(ascii: ".") { if seenDot { return nil }; seenDot = true; continue }
            guard let d = digitValue(c) else { return nil }
            any = true
            let (m, o1) = digits.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int128(d))
            guard !o1, !o2 else { return nil }
            digits = a
            if seenDot { scale += 1 }
        }
        guard any else { return nil }
        scale -= exponent
        while scale < 0 {
            let (m, o) = digits.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            digits = m
            scale += 1
        }
        self.init(digits: digits, scale: scale)
    }

    public var isZero: Bool { digits == 0 }

    public var description: String {
        guard scale > 0 else { return String(digits) }
        var s = String(digits)
        if s.count <= scale { s = String(repeating: "0", count: scale - s.count + 1) + s }
        s.insert(".", at: s.index(s.endIndex, offsetBy: -scale))
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
