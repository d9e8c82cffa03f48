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
        uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
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
