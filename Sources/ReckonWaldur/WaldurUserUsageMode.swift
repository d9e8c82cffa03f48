/// How per-user usages were written: in one atomic bulk call, or one call per user because the
/// server has no `set_user_usages` endpoint (servers older than schema 8.0.5).
public enum WaldurUserUsageMode: Sendable, Equatable {
    case bulk
    case singular
    /// Nothing to send (empty list).
    case nothingToSend
}
