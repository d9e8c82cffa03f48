/// An API token from the configuration. It prints as `<redacted>` in every textual form
/// (description, debug description, reflection), so it cannot leak into a log line, an error or
/// an event by accident; code that must send it asks for ``reveal()`` explicitly.
public struct SecretToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    public func reveal() -> String { value }
    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
