/// The trackable resources (TRES) of one job allocation, as sacct prints them in `AllocTRES`
/// or `ReqTRES` (`billing=4,cpu=4,mem=16000M,node=1,gres/gpu:a100=1,gres/gpu=1`).
///
/// Amounts are exact integers in each TRES's base unit: a count for most TRES, MiB for
/// memory-like ones (`mem`, `vmem`, `fs/*`, `bb/*`), which is what a TRES without a suffix means
/// to Slurm. Typed GRES (`gres/gpu:a100`) is its own name and never summed into `gres/gpu`: Slurm
/// already prints both, and adding them would count each GPU twice.
public struct TRESQuantities: Hashable, Sendable, CustomStringConvertible {
    /// Name → amount, sorted by name for a canonical encoding.
    public private(set) var entries: [(name: String, amount: Int64)]

    public init() { entries = [] }

    /// Builds from pairs; later duplicates of a name replace earlier ones.
    public init(_ pairs: [(String, Int64)]) {
        // Nearly always the pairs are already in canonical order (sacct prints TRES sorted, the
        // codec stores them sorted): then they are the entries as they are.
        var ordered = true
        var i = 1
        while i < pairs.count {
            if !(pairs[i - 1].0 < pairs[i].0) { ordered = false; break }
            i += 1
        }
        if ordered {
            entries = pairs.map { (name: $0.0, amount: $0.1) }
            return
        }
        var dict: [String: Int64] = [:]
        for (n, a) in pairs { dict[n] = a }
        entries = dict.sorted { $0.key < $1.key }.map { (name: $0.key, amount: $0.value) }
    }

    public subscript(name: String) -> Int64? {
        for e in entries where e.name == name { return e.amount }
        return nil
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// `name=amount` pairs joined by commas, memory with an `M` suffix (the `--noconvert` form).
    public var description: String {
        entries.map { "\($0.name)=\($0.amount)\(Self.isMemoryLike($0.name) ? "M" : "")" }.joined(separator: ",")
    }

    /// Whether a TRES is measured in MiB rather than counted.
    public static func isMemoryLike(_ name: String) -> Bool {
        name == "mem" || name == "vmem" || name.hasPrefix("fs/") || name.hasPrefix("bb/")
    }

    public static func == (a: TRESQuantities, b: TRESQuantities) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.amount == $1.amount }
    }

    public func hash(into h: inout Hasher) {
        for e in entries { h.combine(e.name); h.combine(e.amount) }
    }
}

/// Why a TRES string could not be read.
public struct TRESParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "bad TRES \"\(text)\": \(reason)" }
}

extension TRESQuantities {
    /// Parses sacct's TRES list. Empty text is an empty list. Suffixes K/M/G/T/P are powers of
    /// 1024; for memory-like TRES the unit without suffix is MiB (so `M` is ×1, `G` ×1024, `K`
    /// ÷1024), for counts it is 1. Decimals (`15.62G`, only seen without `--noconvert`) are
    /// converted exactly and rounded half-even to the base unit.
    public static func parse(_ text: Substring) throws(TRESParseError) -> TRESQuantities {
        if text.isEmpty { return TRESQuantities() }
        var pairs: [(String, Int64)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = item.firstIndex(of: "=") else {
                throw TRESParseError(text: String(text), reason: "item \"\(item)\" has no '='")
            }
            let name = item[item.startIndex..<eq]
            let value = item[item.index(after: eq)...]
            guard !name.isEmpty else { throw TRESParseError(text: String(text), reason: "item \"\(item)\" has no name") }
            let nameString = String(name)
            guard let amount = parseAmount(value, memoryLike: isMemoryLike(nameString)) else {
                throw TRESParseError(text: String(text), reason: "value \"\(value)\" of \(nameString) is not a number with an optional K/M/G/T/P suffix")
            }
            pairs.append((nameString, amount))
        }
        return TRESQuantities(pairs)
    }

    /// Parses `123`, `123M`, `1.5G`: returns the amount in the base unit, or nil.
    static func parseAmount(_ s: Substring, memoryLike: Bool) -> Int64? {
        var s = s
        return s.withUTF8 { parseAmount(bytes: $0, memoryLike: memoryLike) }
    }

    /// ``parseAmount(_:memoryLike:)`` over UTF-8 bytes.
    static func parseAmount(bytes whole: UnsafeBufferPointer<UInt8>, memoryLike: Bool) -> Int64? {
        var u = whole
        guard !u.isEmpty else { return nil }
        var exp = 0  // power of 1024 relative to the base unit
        if let last = u.last, let p = suffixPower(last) {
            u = UnsafeBufferPointer(rebasing: u.dropLast())
            exp = memoryLike ? p - 2 : p   // memory base unit is M (power 2)
        } else if memoryLike {
            exp = 0
        }
        guard !u.isEmpty else { return nil }
        // integer and fraction digits
        var intPart: Int64 = 0
        var frac: Int64 = 0, fracDigits = 0
        var seenDot = false
        for c in u {
            if c == UInt8(ascii: ".") {
                if seenDot { return nil }
                seenDot = true
                continue
            }
            guard let d = digitValue(c) else { return nil }
            if seenDot {
                guard fracDigits < 9 else { continue }   // beyond nano precision is noise
                frac = frac * 10 + Int64(d)
                fracDigits += 1
            } else {
                let (m, o1) = intPart.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { return nil }
                intPart = a
            }
        }
        // Whole numbers in the base unit or above: exact in Int64 or out of range.
        if fracDigits == 0 && exp >= 0 {
            var v = intPart
            for _ in 0..<exp {
                let (m, o) = v.multipliedReportingOverflow(by: 1024)
                if o { return nil }
                v = m
            }
            return v
        }
        // value = (intPart + frac/10^fd) * 1024^exp, computed exactly in Int128, rounded half-even
        var den: Int128 = 1
        for _ in 0..<fracDigits { den *= 10 }
        var num: Int128 = Int128(intPart) * den + Int128(frac)
        if exp > 0 { for _ in 0..<exp { num *= 1024 } }
        if exp < 0 { for _ in 0..<(-exp) { den *= 1024 } }
        let q = roundHalfEven(num, den)
        guard q <= Int128(Int64.max) else { return nil }
        return Int64(q)
    }

    /// The fast reader for plain ASCII TRES text (what sacct prints): the same result as
    /// ``parse(_:)``, or nil whenever that would throw or the text is not plain ASCII, so the
    /// caller can fall back to ``parse(_:)`` for its verdict. Well-known names share one string.
    public static func parseASCII(_ text: UnsafeBufferPointer<UInt8>) -> TRESQuantities? {
        var pairs: [(name: String, amount: Int64)] = []
        pairs.reserveCapacity(8)
        var ordered = true   // names strictly ascending (bytewise, which for ASCII is String order)
        var previous: UnsafeBufferPointer<UInt8>?
        let read = forEachASCIIItem(text) { name, amount in
            if ordered, let p = previous { ordered = p.lexicographicallyPrecedes(name) }
            previous = name
            pairs.append((name: knownName(name) ?? String(decoding: name, as: UTF8.self), amount: amount))
            return true
        }
        guard read else { return nil }
        if ordered { return TRESQuantities(sortedEntries: pairs) }
        return TRESQuantities(pairs.map { ($0.name, $0.amount) })
    }

    /// Reads plain ASCII TRES text item by item — `name=amount`, comma-separated, empty items
    /// skipped as `split(omittingEmptySubsequences:)` does — calling `body` with each name's bytes
    /// (valid during the call) and its amount in the base unit. False when the text is not plain
    /// ASCII, an item has no name or no readable amount, or `body` returns false. Shared by
    /// ``parseASCII(_:)`` and the transcoder (``EventCodec/encodeTRES(ascii:maxNameBytes:into:)``),
    /// so the two cannot read a list differently.
    static func forEachASCIIItem(_ text: UnsafeBufferPointer<UInt8>,
                                 _ body: (UnsafeBufferPointer<UInt8>, Int64) -> Bool) -> Bool {
        guard let base = text.baseAddress else { return true }
        var i = 0
        let n = text.count
        while i < n {
            var end = i
            var eq = -1
            while end < n && base[end] != 44 {   // ','
                let b = base[end]
                if b >= 0x80 { return false }
                if b == 61 && eq < 0 { eq = end }   // '='
                end += 1
            }
            if end > i {
                guard eq > i else { return false }
                let name = UnsafeBufferPointer(start: base + i, count: eq - i)
                guard let amount = parseAmount(bytes: UnsafeBufferPointer(start: base + eq + 1, count: end - eq - 1),
                                               memoryLike: isMemoryLike(name)),
                      body(name, amount) else { return false }
            }
            i = end + 1
        }
        return true
    }

    /// Entries already strictly ascending by name.
    init(sortedEntries: [(name: String, amount: Int64)]) { entries = sortedEntries }

    /// ``isMemoryLike(_:)`` of a name's bytes.
    @inline(__always)
    static func isMemoryLike(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        if n == 3 { return b[0] == 109 && b[1] == 101 && b[2] == 109 }                       // mem
        if n == 4 && b[0] == 118 && b[1] == 109 && b[2] == 101 && b[3] == 109 { return true }  // vmem
        if n >= 3 && b[2] == 47 {                                                             // fs/ bb/
            return (b[0] == 102 && b[1] == 115) || (b[0] == 98 && b[1] == 98)
        }
        return false
    }

    private static let knownNames: [String] = ["billing", "cpu", "mem", "node", "energy", "fs/disk", "vmem", "pages",
                                               "gres/gpu", "gres/gpu:a100", "gres/gpu:h100", "gres/gpu:v100"]
    private static let knownNameBytes: [[UInt8]] = knownNames.map { Array($0.utf8) }

    /// The shared string of a well-known TRES name.
    @inline(__always)
    static func knownName(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        knownNameBytes.withUnsafeBufferPointer { names in
            for (k, name) in names.enumerated() where name.count == b.count && name[0] == b[0] {
                var i = 1
                while i < b.count && name[i] == b[i] { i += 1 }
                if i == b.count { return knownNames[k] }
            }
            return nil
        }
    }

    static func suffixPower(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "K"): return 1
        case UInt8(ascii: "M"): return 2
        case UInt8(ascii: "G"): return 3
        case UInt8(ascii: "T"): return 4
        case UInt8(ascii: "P"): return 5
        default: return nil
        }
    }
}

/// `num / den` rounded to the nearest integer, ties to even; `den` > 0.
@inlinable
public func roundHalfEven(_ num: Int128, _ den: Int128) -> Int128 {
    // Both within 64 bits (nearly always): the same rounding with 64-bit division, several
    // times cheaper than 128-bit. `2r > d` is asked as `r > d - r`, which cannot overflow.
    if den > 0, let n = Int64(exactly: num), let d = Int64(exactly: den) {
        var q = n / d
        var r = n % d
        if r < 0 { q -= 1; r += d }       // floor division
        if r > d - r || (r == d - r && q % 2 != 0) { q += 1 }
        return Int128(q)
    }
    var q = num / den
    var r = num % den
    if r < 0 { q -= 1; r += den }         // floor division
    let twice = r * 2
    if twice > den || (twice == den && q % 2 != 0) { q += 1 }
    return q
}
