/// One HTTP attempt as the client saw it, for metrics and logs.
///
/// The engine counts and logs Waldur traffic without ever seeing the request headers, so the
/// token cannot leak through an observer.
public struct WaldurHTTPAttempt: Sendable, CustomStringConvertible {
    /// What happened after the attempt.
    public enum Outcome: Sendable, Equatable {
        /// The attempt produced the operation's answer (2xx).
        case succeeded
        /// A transient failure; the client waits `delay` and tries again.
        case willRetry(delay: Duration)
        /// The attempt ended the operation with an error.
        case failed
    }

    /// `GET`, `POST`, ...
    public let method: String
    /// The path with identifiers replaced, e.g. `/api/marketplace-component-usages/{uuid}/set_user_usages/`.
    public let pathTemplate: String
    /// 1 for the first attempt.
    public let attempt: Int
    /// The HTTP status, nil when no answer arrived.
    public let status: Int?
    /// Time from sending to the full answer (or the failure).
    public let duration: Duration
    public let outcome: Outcome
    /// Short description of the failure (never the token).
    public let failure: String?

    public var description: String {
        "\(method) \(pathTemplate) attempt \(attempt) -> \(status.map(String.init) ?? "no answer") in \(duration)"
            + (failure.map { " (\($0))" } ?? "")
    }
}

/// Receives every HTTP attempt; called on the client's task, so it must be quick.
public typealias WaldurAttemptObserver = @Sendable (WaldurHTTPAttempt) -> Void
