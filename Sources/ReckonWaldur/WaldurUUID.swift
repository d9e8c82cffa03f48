import Foundation

/// A Waldur object identifier.
///
/// Waldur renders UUIDs as 32 lower-case hex digits without dashes, while configs and older
/// clients often use the dashed form. Comparing them as strings silently fails to match
/// (site-agent trap 14), so this type parses either form and compares the 128-bit value.
public struct WaldurUUID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The parsed value.
    public let uuid: UUID

    /// Wraps a Foundation UUID.
    public init(_ uuid: UUID) {
        self.uuid = uuid
    }

    /// Parses 32 hex digits, with or without the four dashes of the canonical form, in either case.
    /// Returns nil for anything else (braces, `urn:uuid:`, wrong length, non-hex characters).
    public init?(_ text: String) {
        // Every UUID of every list page passes here, so ASCII text (all of Waldur's) is read byte
        // by byte; other text takes the general path, which also trims Unicode spaces.
        switch Self.parseASCII(text) {
        case .parsed(let value):
            self.uuid = value
            return
        case .invalid:
            return nil
        case .notASCII:
            break
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let hexDigits: String
        if trimmed.count == 36 {
            let chars = Array(trimmed)
            for index in [8, 13, 18, 23] where chars[index] != "-" {
                return nil
            }
            hexDigits = trimmed.replacingOccurrences(of: "-", with: "")
        } else {
            hexDigits = trimmed
        }
        guard hexDigits.count == 32, hexDigits.allSatisfy(\.isHexDigit) else { return nil }
        let chars = Array(hexDigits)
        let dashed = String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
        guard let parsed = UUID(uuidString: dashed) else { return nil }
        self.uuid = parsed
    }

    /// Parses a UUID or throws an error naming the field and the bad value.
    public init(parsing text: String, field: String) throws(WaldurError) {
        guard let value = WaldurUUID(text) else {
            throw WaldurError.invalidResponse("\(field): \"\(text)\" is not a UUID")
        }
        self = value
    }

    /// Waldur's rendering: 32 lower-case hex digits, no dashes.
    public var hex: String {
        withUnsafeBytes(of: uuid.uuid) { raw in
            String(unsafeUninitializedCapacity: 32) { out in
                let digits: StaticString = "0123456789abcdef"
                let d = digits.utf8Start
                for (i, byte) in raw.enumerated() {
                    out[2 * i] = d[Int(byte >> 4)]
                    out[2 * i + 1] = d[Int(byte & 0x0F)]
                }
                return 32
            }
        }
    }

    private enum ASCIIParse {
        case parsed(UUID)
        case invalid
        case notASCII
    }

    /// The same forms as the general path — 32 hex digits, or 36 characters with dashes at 8, 13,
    /// 18 and 23 — with leading and trailing spaces and tabs (ASCII's `.whitespaces`) ignored.
    private static func parseASCII(_ text: String) -> ASCIIParse {
        var text = text
        return text.withUTF8 { bytes -> ASCIIParse in
            if bytes.contains(where: { $0 >= 0x80 }) { return .notASCII }
            var lo = 0, hi = bytes.count
            while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
            while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
            let length = hi - lo
            guard length == 32 || length == 36 else { return .invalid }
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let ok = withUnsafeMutableBytes(of: &raw) { out -> Bool in
                var nibble = 0
                for offset in 0..<length {
                    let b = bytes[lo + offset]
                    if length == 36 && (offset == 8 || offset == 13 || offset == 18 || offset == 23) {
                        guard b == UInt8(ascii: "-") else { return false }
                        continue
                    }
                    let v: UInt8
                    switch b {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): v = b - UInt8(ascii: "0")
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): v = b - UInt8(ascii: "a") + 10
                    case UInt8(ascii: "A")...UInt8(ascii: "F"): v = b - UInt8(ascii: "A") + 10
                    default: return false
                    }
                    if nibble % 2 == 0 { out[nibble / 2] = v << 4 } else { out[nibble / 2] |= v }
                    nibble += 1
                }
                return nibble == 32
            }
            return ok ? .parsed(UUID(uuid: raw)) : .invalid
        }
    }

    /// The canonical dashed, lower-case form.
    public var dashed: String {
        uuid.uuidString.lowercased()
    }

    public var description: String { hex }

    public static func < (lhs: WaldurUUID, rhs: WaldurUUID) -> Bool {
        lhs.hex < rhs.hex
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = WaldurUUID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not a UUID")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
