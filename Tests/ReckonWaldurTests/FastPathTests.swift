import Foundation
@testable import ReckonWaldur
import Testing

/// The byte-level UUID parser and hex rendering, and the calendar-free `date` rendering, agree
/// with the general (Foundation) forms they replaced on the hot path: every list item's UUID and
/// every user value's date goes through them.
@Suite struct FastPathTests {
    /// The general path: what `WaldurUUID(_:)` did for every input before the ASCII fast path.
    static func reference(_ text: String) -> UUID? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let hexDigits: String
        if trimmed.count == 36 {
            let chars = Array(trimmed)
            for index in [8, 13, 18, 23] where chars[index] != "-" { return nil }
            hexDigits = trimmed.replacingOccurrences(of: "-", with: "")
        } else {
            hexDigits = trimmed
        }
        guard hexDigits.count == 32, hexDigits.allSatisfy(\.isHexDigit) else { return nil }
        let c = Array(hexDigits)
        return UUID(uuidString: String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32]))
    }

    @Test func uuidParsingAgreesWithTheGeneralPath() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABCDEF-- \tgz{}")
        var texts: [String] = ["", " ", "10a0f810be1c43bbb651e8cbdbb90198", " 10a0f810-be1c-43bb-b651-e8cbdbb90198\t",
                               "10a0f810-be1c-43bb-b651-e8cbdbb9019-", "-10a0f810be1c43bbb651e8cbdbb9019", "10a0f810be1c43bbb651e8cbdbb90198\n",
                               "\u{00A0}10a0f810be1c43bbb651e8cbdbb90198", "１0a0f810be1c43bbb651e8cbdbb90198"]
        for _ in 0..<20_000 {
            let n = Int.random(in: 30...38, using: &rng)
            var t = String((0..<n).map { _ in alphabet.randomElement(using: &rng) ?? "0" })
            if Bool.random(using: &rng) {
                // A well-formed value with a random mutation or two.
                let u = UUID().uuidString
                t = Bool.random(using: &rng) ? u : u.replacingOccurrences(of: "-", with: "")
                if Int.random(in: 0..<3, using: &rng) == 0, !t.isEmpty {
                    var chars = Array(t)
                    chars[Int.random(in: 0..<chars.count, using: &rng)] = alphabet.randomElement(using: &rng) ?? "x"
                    t = String(chars)
                }
                if Bool.random(using: &rng) { t = (Bool.random(using: &rng) ? " " : "\t") + t + " " }
            }
            texts.append(t)
        }
        for t in texts {
            #expect(WaldurUUID(t)?.uuid == Self.reference(t), "\(t.debugDescription)")
        }
    }

    @Test func hexIsTheLowerCaseUUIDStringWithoutDashes() {
        for _ in 0..<1_000 {
            let u = WaldurUUID(UUID())
            #expect(u.hex == u.uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
            #expect(WaldurUUID(u.hex) == u)
        }
    }

    /// The calendar-based rendering it replaced.
    static func referenceDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d+00:00", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
    }

    @Test func dateRenderingAgreesWithTheCalendar() {
        var rng = SystemRandomNumberGenerator()
        // Month and year edges, leap days, and random instants 1970…2199 (with fractions).
        var dates: [Date] = [0, 951_782_400, 951_868_799, 1_772_323_199, 1_772_323_200, 4_107_542_399, 4_102_444_800]
            .map { Date(timeIntervalSince1970: $0) }
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: 0..<7_258_118_400, using: &rng)) + Double.random(in: 0..<1, using: &rng)))
        }
        for d in dates {
            #expect(WaldurDateFormat.string(from: d) == Self.referenceDate(d), "\(d.timeIntervalSince1970)")
        }
    }
}
