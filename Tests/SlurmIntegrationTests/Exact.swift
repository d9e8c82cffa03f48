import Foundation

/// Exact arithmetic for the expected values, written here (not taken from reckon) so the suite
/// checks reckon against sacct and nothing else: integers only, rounded once, half to even.

/// A Waldur amount as an integer number of hundredths ("cents").
struct Cents: Hashable, Comparable, CustomStringConvertible, Sendable {
    var value: Int128
    static let zero = Cents(value: 0)
    static func < (a: Cents, b: Cents) -> Bool { a.value < b.value }
    static func - (a: Cents, b: Cents) -> Cents { Cents(value: a.value - b.value) }

    var description: String {
        let m = value < 0 ? -value : value
        let frac = m % 100
        return (value < 0 ? "-" : "") + "\(m / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// Parses a decimal string with at most two fractional digits ("12", "0.4", "-3.25").
    init?(parsing text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        let negative = s.hasPrefix("-")
        if negative || s.hasPrefix("+") { s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int128(String(parts[0])), whole >= 0 else { return nil }
        var frac: Int128 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard (1...2).contains(f.count), f.allSatisfy(\.isNumber), let v = Int128(String(f)) else { return nil }
            frac = f.count == 1 ? v * 10 : v
        }
        value = (whole * 100 + frac) * (negative ? -1 : 1)
    }

    init(value: Int128) { self.value = value }
}

/// `n / d` rounded half to even (d > 0).
func divideHalfEven(_ n: Int128, _ d: Int128) -> Int128 {
    precondition(d > 0)
    var q = n / d, r = n % d
    if r < 0 { q -= 1; r += d }                 // floor division
    let twice = 2 * r
    if twice > d || (twice == d && q % 2 != 0) { q += 1 }
    return q
}

/// A positive decimal such as `1`, `1024` or `0.5` as digits / 10^scale (the config's unit_factor).
struct DecimalFactor: Sendable, CustomStringConvertible {
    var digits: Int128
    var scale: Int
    var description: String
    init?(_ text: String) {
        description = text
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        guard let d = Int128(parts.joined()), d > 0 else { return nil }
        digits = d
        scale = parts.count == 2 ? parts[1].count : 0
    }

    /// native TRES-seconds ÷ (60 × factor), in cents, half to even: TRES-minutes per unit.
    func cents(nativeSeconds n: Int128) -> Cents {
        var pow: Int128 = 1
        for _ in 0..<scale { pow *= 10 }
        return Cents(value: divideHalfEven(n * pow * 100, 60 * digits))
    }
}

/// The count of one TRES as sacct prints it with --noconvert: an integer, memory in MiB with an
/// `M` suffix. Other suffixes are powers of 1024 of MiB; a count that is not a whole number of
/// MiB (a `K` value not divisible by 1024, a fraction) is refused rather than rounded.
func tresCount(_ text: String) -> Int128? {
    guard let last = text.last else { return nil }
    let powers: [Character: Int] = ["M": 0, "G": 1, "T": 2, "P": 3, "E": 4]
    if last.isNumber { return Int128(text) }
    guard let n = Int128(String(text.dropLast())) else { return nil }
    if last == "K" { return n % 1024 == 0 ? n / 1024 : nil }
    guard let p = powers[last] else { return nil }
    var v = n
    for _ in 0..<p { v *= 1024 }
    return v
}

/// `name=count,...` (AllocTRES) as a dictionary; nil when any item is unparsable.
func parseTRES(_ text: String) -> [String: Int128]? {
    var out: [String: Int128] = [:]
    if text.isEmpty { return out }
    for item in text.split(separator: ",") {
        guard let eq = item.firstIndex(of: "=") else { return nil }
        guard let c = tresCount(String(item[item.index(after: eq)...])) else { return nil }
        out[String(item[..<eq]), default: 0] += c
    }
    return out
}

/// sacct's `[D-]HH:MM:SS` / `MM:SS` (the Suspended field, even with --noconvert).
func durationSeconds(_ text: String) -> Int64? {
    var days: Int64 = 0
    var rest = Substring(text)
    if let dash = rest.firstIndex(of: "-") {
        guard let d = Int64(rest[..<dash]) else { return nil }
        days = d
        rest = rest[rest.index(after: dash)...]
    }
    var parts = rest.split(separator: ":").map { Int64($0) }
    guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ $0 != nil }) else { return nil }
    while parts.count < 3 { parts.insert(0, at: 0) }
    return ((days * 24 + parts[0]!) * 60 + parts[1]!) * 60 + parts[2]!
}

/// `floor(a / b)` for b > 0.
func floorDiv(_ a: Int128, _ b: Int128) -> Int128 {
    let q = a / b
    return (a % b != 0 && (a < 0)) ? q - 1 : q
}
