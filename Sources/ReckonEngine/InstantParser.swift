import Foundation
import ReckonCore
import ReckonSacct

/// Reads the instants operators type on the command line: `2026-11-01T00:00:00+02:00`,
/// `2026-11-01T00:00:00Z`, `2026-11-01T00:00:00` (read in the given zone) or `2026-11-01`
/// (local midnight); the seconds may be left out (`2026-11-03T12:00`, `…T12:00Z`,
/// `…T12:00+02:00`). Anything else is an error that quotes the value.
public enum InstantParser {
    public static func parse(_ text: String, zone: TimeZone, option: String) throws(InstantParseError) -> EpochSeconds {
        var t = text.trimmingCharacters(in: .whitespaces)
        // `YYYY-MM-DDTHH:MM` with nothing or a zone after it: the seconds are 00.
        let u = Array(t.utf8)
        if u.count >= 16, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"),
           u.count == 16 || u[16] != UInt8(ascii: ":") {
            t = String(decoding: u[..<16], as: UTF8.self) + ":00" + String(decoding: u[16...], as: UTF8.self)
        }
        let conv = LocalTimeConverter(timeZone: zone)
        if t.count == 10, let v = conv.epoch(iso: t + "T00:00:00") { return v }
        if t.count == 19, let v = conv.epoch(iso: t) { return v }
        if t.count == 20, t.hasSuffix("Z") || t.hasSuffix("z"), let utc = TimeZone(identifier: "UTC"),
           let v = LocalTimeConverter(timeZone: utc).epoch(iso: String(t.prefix(19))) { return v }
        if t.count == 25, let utc = TimeZone(identifier: "UTC"), let base = LocalTimeConverter(timeZone: utc).epoch(iso: String(t.prefix(19))) {
            let off = Array(t.utf8)[19...]
            let o = Array(off)
            let digit = { (b: UInt8) in b >= 48 && b <= 57 }
            if (o[0] == 43 || o[0] == 45), o[3] == 58, digit(o[1]), digit(o[2]), digit(o[4]), digit(o[5]),
               let hh = Int(String(decoding: o[1...2], as: UTF8.self)),
               let mm = Int(String(decoding: o[4...5], as: UTF8.self)), hh < 24, mm < 60 {
                let secs = Int64(hh * 3600 + mm * 60)
                return o[0] == 43 ? base - secs : base + secs
            }
        }
        throw InstantParseError(option: option, value: text)
    }
}

/// A date or time the user typed that reckon cannot read.
public struct InstantParseError: Error, CustomStringConvertible {
    public let option: String
    public let value: String
    public var description: String {
        "\(option): expected a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] with an optional Z or ±HH:MM offset, got \"\(value)\""
    }
}
