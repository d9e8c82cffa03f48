/// A Waldur API token that cannot leak through printing.
///
/// The token authorises writes to billing data. Its `description`, `debugDescription`, `dump`
/// and string interpolation all show `<redacted>`; the secret is only read by the client when it
/// builds the `Authorization` header.
public struct WaldurToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let secret: String

    /// Wraps a token. Nil when it is empty or contains whitespace or control characters, which
    /// could not be sent in a header (and would signal a mangled config value).
    public init?(_ secret: String) {
        guard !secret.isEmpty,
              secret.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        self.secret = secret
    }

    public var description: String { "WaldurToken(<redacted>)" }
    public var debugDescription: String { "WaldurToken(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: ["secret": "<redacted>"], displayStyle: .struct) }

    /// Replaces every occurrence of the secret in `text`, so messages built from server bodies
    /// or transport errors can never carry it.
    func redact(_ text: String) -> String {
        text.replacingOccurrences(of: secret, with: "<redacted>")
    }
}
