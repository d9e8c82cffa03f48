/// Every way a Waldur call can fail, each carrying what the server said.
///
/// The reporter treats these differently: a backfill refusal is an expected answer for past months,
/// a validation error is a bug to surface, 401/403 need an operator, and transient failures are
/// retried inside the client until `retriesExhausted`. No case ever holds the API token.
public enum WaldurError: Error, Sendable, CustomStringConvertible {
    /// The endpoint settings are unusable (bad URL, plain HTTP to a remote host, bad page size).
    case invalidConfiguration(String)
    /// The API URL is plain `http` to a host that is not loopback, and the endpoint was not told
    /// to allow that: the token would cross the network unencrypted.
    case insecureHTTP(url: String)
    /// The client refused to send a request that Waldur would store wrongly or reject
    /// (negative amount, duplicate component type, bad username).
    case invalidRequest(String)
    /// 401: missing, unknown or expired token.
    case unauthorized(WaldurServerMessage)
    /// 403: the token's user lacks the permission (for example not a service provider of the offering).
    case forbidden(WaldurServerMessage)
    /// 404: unknown object, invisible object, or a page past the end.
    case notFound(WaldurServerMessage)
    /// 400 from validation: field → messages.
    case validation(WaldurServerMessage)
    /// 400 refusing a `date` in a past billing period for a non-staff caller (message contains
    /// "backfilling"). Expected when a service-provider token reports a previous month.
    case backfillRefused(WaldurServerMessage)
    /// 429 (as the last failure inside `retriesExhausted`).
    case rateLimited(WaldurServerMessage, retryAfterSeconds: Double?)
    /// 502/503/504 (as the last failure inside `retriesExhausted`).
    case serverUnavailable(status: Int, WaldurServerMessage)
    /// No HTTP answer: connect failure, reset, dropped connection, timeout.
    case transport(String)
    /// Retryable failures continued past the attempt limit or the total time budget.
    indirect case retriesExhausted(attempts: Int, last: WaldurError)
    /// Any other status (500, 405, ...).
    case unexpectedStatus(status: Int, WaldurServerMessage)
    /// A 2xx answer that does not have the documented shape (missing header, undecodable body).
    case invalidResponse(String)

    /// The HTTP status behind this error, if there was one.
    public var status: Int? {
        switch self {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .validation, .backfillRefused: 400
        case .rateLimited: 429
        case .serverUnavailable(let status, _), .unexpectedStatus(let status, _): status
        case .retriesExhausted(_, let last): last.status
        case .invalidConfiguration, .insecureHTTP, .invalidRequest, .transport, .invalidResponse: nil
        }
    }

    /// The server's message, if the error came from an HTTP answer.
    public var serverMessage: WaldurServerMessage? {
        switch self {
        case .unauthorized(let message), .forbidden(let message), .notFound(let message),
             .validation(let message), .backfillRefused(let message), .rateLimited(let message, _),
             .serverUnavailable(_, let message), .unexpectedStatus(_, let message):
            message
        case .retriesExhausted(_, let last): last.serverMessage
        case .invalidConfiguration, .insecureHTTP, .invalidRequest, .transport, .invalidResponse: nil
        }
    }

    /// True for failures the client retries by itself (429, 502/503/504, transport).
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .serverUnavailable, .transport: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): "invalid Waldur configuration: \(text)"
        case .insecureHTTP(let url): "invalid Waldur configuration: api_url \"\(url)\" uses plain http to a non-loopback host; use https"
        case .invalidRequest(let text): "refused to send an invalid Waldur request: \(text)"
        case .unauthorized(let message): "Waldur rejected the token (401): \(message)"
        case .forbidden(let message): "Waldur refused permission (403): \(message)"
        case .notFound(let message): "Waldur object not found (404): \(message)"
        case .validation(let message): "Waldur rejected the request (400): \(message)"
        case .backfillRefused(let message): "Waldur refused to backfill a past billing period (400): \(message)"
        case .rateLimited(let message, let after):
            "Waldur rate limited the request (429\(after.map { ", Retry-After \($0)s" } ?? "")): \(message)"
        case .serverUnavailable(let status, let message): "Waldur unavailable (\(status)): \(message)"
        case .transport(let text): "Waldur transport error: \(text)"
        case .retriesExhausted(let attempts, let last): "gave up after \(attempts) attempts: \(last)"
        case .unexpectedStatus(let status, let message): "unexpected Waldur status \(status): \(message)"
        case .invalidResponse(let text): "invalid Waldur response: \(text)"
        }
    }
}
