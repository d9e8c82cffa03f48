/// A marketplace resource state, by Waldur's label.
///
/// Waldur accepts usage only for `OK`, `Updating` and `Terminating`; the list filter rejects labels
/// outside this set with a 400, so the client only sends known labels.
public enum WaldurResourceState: String, Sendable, CaseIterable, Codable {
    case creating = "Creating"
    case ok = "OK"
    case erred = "Erred"
    case updating = "Updating"
    case terminating = "Terminating"
    case terminated = "Terminated"

    /// True for the states in which Waldur accepts `set_usage`.
    public var acceptsUsage: Bool {
        self == .ok || self == .updating || self == .terminating
    }
}
