import Foundation
import ReckonCore

/// Parsers for the value forms sacct prints, each total (returns nil, never traps, on bad text).
public enum SacctValues {
    /// `Unknown`, `None`, empty → `.absent`; digits → epoch seconds (`SLURM_TIME_FORMAT=%s`);
    /// `YYYY-MM-DDTHH:MM:SS` → local time in the given zone.
    public enum Time: Equatable { case absent, at(EpochSeconds) }

    public static func time(_ s: Substring, zone: LocalTimeConverter) -> Time? {
        let t = s.trimmingSpaces
        if t.isEmpty || t == "Unknown" || t == "None" || t == "N/A" { return .absent }
        if t.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard let v = Int64(t) else { return nil }
            return .at(v)
        }
        guard let v = zone.epoch(iso: t) else { return nil }
        return .at(v)
    }

    /// Durations `[D-]HH:MM:SS[.ffffff]`, `MM:SS[.fff]`, any number of days: whole seconds
    /// (fractions truncated, as sacct's own raw values are whole seconds).
    public static func duration(_ s: Substring) -> Int64? {
        let t = s.trimmingSpaces
        if t.isEmpty || t == "INVALID" || t == "Unknown" { return nil }
        var days: Int64 = 0
        var rest = Substring(t)
        if let dash = rest.firstIndex(of: "-") {
            guard let d = Int64(rest[rest.startIndex..<dash]), d >= 0 else { return nil }
            days = d
            rest = rest[rest.index(after: dash)...]
        }
        if let dot = rest.firstIndex(of: ".") {
            guard rest[rest.index(after: dot)...].allSatisfy(\.isNumber) else { return nil }
            rest = rest[rest.startIndex..<dot]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else { return nil }
        var nums: [Int64] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 9, p.allSatisfy(\.isASCII), let v = Int64(p), v >= 0 else { return nil }
            nums.append(v)
        }
        let (h, m, sec) = nums.count == 3 ? (nums[0], nums[1], nums[2]) : (0, nums[0], nums[1])
        guard m < 60, sec < 60 else { return nil }
        return days * 86_400 + h * 3_600 + m * 60 + sec
    }

    /// A non-negative integer such as DBIndex, JobIDRaw or ElapsedRaw.
    public static func unsigned(_ s: Substring) -> UInt64? {
        let t = s.trimmingSpaces
        guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return UInt64(t)
    }
}

/// Converts sacct's offset-less ISO local times to epoch seconds in one explicit zone.
///
/// In a DST fall-back hour a local time names two instants; the earlier is taken (sacct
/// gives no way to tell them apart, which is why the runner asks for epoch seconds instead).
/// A local time inside a spring-forward gap is read with the offset in force before the gap.
public struct LocalTimeConverter: Sendable {
    public let timeZone: TimeZone

    /// UTC and its aliases have offset 0 at every instant: no zone lookups needed.
    private let isUTC: Bool

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        isUTC = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"].contains(timeZone.identifier)
            && timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 0
    }

    public func epoch(iso s: String) -> EpochSeconds? {
        var s = s
        return s.withUTF8 { epoch(isoBytes: $0) }
    }

    /// ``epoch(iso:)`` over the UTF-8 bytes of the text.
    public func epoch(isoBytes u: UnsafeBufferPointer<UInt8>) -> EpochSeconds? {
        guard u.count == 19, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? {
            var v = 0
            for i in a..<b { guard u[i] >= 48 && u[i] <= 57 else { return nil }; v = v * 10 + Int(u[i] - 48) }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16), let se = num(17, 19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61, d <= Self.daysIn(y, mo) else { return nil }
        let naive = Self.daysFromCivil(y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + se)
        if isUTC { return naive }
        // Earliest instant whose local wall time is `naive`: try the offsets in force around it.
        func offset(_ t: EpochSeconds) -> Int64 { Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t)))) }
        let before = offset(naive - 86_400)
        let after = offset(naive + 86_400)
        let middle = offset(naive)
        var best: EpochSeconds?
        for (k, off) in [before, after, middle].enumerated() {
            if (k >= 1 && off == before) || (k == 2 && off == after) { continue }   // each distinct offset once
            let t = naive - off
            if offset(t) == off, best.map({ t < $0 }) ?? true { best = t }
        }
        if let best { return best }
        return naive - before   // in a gap: the offset before the jump
    }

    static func daysIn(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
