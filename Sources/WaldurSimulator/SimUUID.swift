import Foundation

/// UUID handling as Waldur does it: stored and rendered as 32 lower-case hex digits, accepted with
/// or without dashes.
enum SimUUID {
    /// The 32-hex form of `text`, or nil when it is not a UUID.
    static func normalize(_ text: String) -> String? {
        let lowered = text.lowercased()
        let hex: String
        if lowered.count == 36 {
            let chars = Array(lowered)
            guard [8, 13, 18, 23].allSatisfy({ chars[$0] == "-" }) else { return nil }
            hex = lowered.replacingOccurrences(of: "-", with: "")
        } else {
            hex = lowered
        }
        guard hex.count == 32, hex.allSatisfy({ $0.isHexDigit && $0.isASCII }) else { return nil }
        return hex
    }

    /// A fresh random UUID in Waldur's rendering.
    static func random() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}

