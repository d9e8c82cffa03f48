/// How the client retries transient failures (429, 502/503/504, transport errors).
///
/// Waldur's usage writes are absolute overwrites, so retrying them is safe; the policy bounds both
/// the number of attempts and the total wall time so a reporting cycle cannot hang.
public struct WaldurRetryPolicy: Sendable {
    /// Attempts including the first one (at least 1).
    public var maxAttempts: Int
    /// Delay before the first retry.
    public var initialBackoff: Duration
    /// Upper bound of one backoff delay.
    public var maxBackoff: Duration
    /// Fraction of each delay that is randomised (0 = none, 1 = full jitter).
    public var jitter: Double
    /// Total time for one operation, attempts and waits included; no retry starts past it.
    public var totalBudget: Duration
    /// The longest `Retry-After` the client is willing to wait; a longer one ends the retries.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 6,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30),
        jitter: Double = 0.5,
        totalBudget: Duration = .seconds(300),
        maxRetryAfter: Duration = .seconds(120)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = min(max(jitter, 0), 1)
        self.totalBudget = totalBudget
        self.maxRetryAfter = maxRetryAfter
    }

    /// Never retries.
    public static let none = WaldurRetryPolicy(maxAttempts: 1)

    /// The backoff before retry number `retry` (1 = first retry), jittered with `random` in 0..<1.
    func backoff(retry: Int, random: Double) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let base = min(initialBackoff * (1 << exponent), maxBackoff)
        return base * (1 - jitter * random)
    }
}
