import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as the client means it, before retries.
struct WaldurRequest: Sendable {
    var method: HTTPMethod
    /// Path below the base URL, starting with `/api/`.
    var path: String
    /// The path with identifiers replaced by `{uuid}`, for observers and logs.
    var pathTemplate: String
    var query = WaldurQuery()
    var jsonBody: [UInt8]?
}

/// A successful (2xx) answer.
struct WaldurResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// Sends requests with authentication, timeouts and the retry policy, and maps failures to
/// `WaldurError`. The token is only read here, when the header is built.
final class WaldurTransport: Sendable {
    let endpoint: WaldurEndpoint
    let httpClient: HTTPClient
    let logger: Logger
    let observer: WaldurAttemptObserver?

    static let maxBodyBytes = 64 * 1024 * 1024

    init(endpoint: WaldurEndpoint, logger: Logger, observer: WaldurAttemptObserver?) {
        self.endpoint = endpoint
        self.logger = logger
        self.observer = observer
        let timeout = HTTPClient.Configuration.Timeout(
            connect: .nanoseconds(Int64(endpoint.connectTimeout.totalNanoseconds)),
            read: .nanoseconds(Int64(endpoint.requestTimeout.totalNanoseconds)))
        var configuration = HTTPClient.Configuration(
            certificateVerification: endpoint.verifySSL ? .fullVerification : .none,
            redirectConfiguration: .disallow,
            timeout: timeout)
        if !endpoint.verifySSL {
            logger.warning(
                "TLS certificate verification is disabled for Waldur (verify_ssl: false)",
                metadata: ["waldur.host": "\(endpoint.host)"])
        }
        configuration.httpVersion = .http1Only
        // Retries are the policy's (bounded attempts and total time, logged per attempt). Left
        // on, the pool would also retry a refused connection by itself until the connect timeout,
        // so each of the policy's attempts against a Waldur that is down took the whole 10 s
        // (`reckon plan` against a closed port: 72 s before failing).
        configuration.connectionPool.retryConnectionEstablishment = false
        self.httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: configuration, backgroundActivityLogger: logger)
    }

    /// A transport failure in a sentence: the system's words for a socket error (`Connection
    /// refused`, not NIO's `connection reset (error set): Connection refused) (errno: 111)`),
    /// AsyncHTTPClient's own description otherwise.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return "\(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))"
        }
        // A host name is connected to through NIO's Happy Eyeballs, which wraps the socket
        // errors of each address tried (and the lookups' errors) in one.
        if let c = error as? NIOConnectionError {
            if let dns = c.dnsAError ?? c.dnsAAAAError { return "cannot resolve \(c.host): \(dns)" }
            let each = c.connectionErrors.map { "\($0.target): \(describe($0.error))" }
            return each.isEmpty ? "cannot connect to \(c.host):\(c.port)" : "cannot connect to \(c.host):\(c.port) (\(each.joined(separator: "; ")))"
        }
        return String(describing: error)
    }

    func shutdown() async throws {
        try await httpClient.shutdown()
    }

    /// Sends `request`, retrying transient failures; returns a 2xx answer or throws `WaldurError`
    /// (or `CancellationError` when the task is cancelled).
    func send(_ request: WaldurRequest) async throws -> WaldurResponse {
        let clock = ContinuousClock()
        let start = clock.now
        let policy = endpoint.retry
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let attemptStart = clock.now
            let result = await attemptOnce(request)
            let duration = clock.now - attemptStart
            switch result {
            case .success(let response):
                report(request, attempt: attempt, status: response.status, duration: duration, outcome: .succeeded)
                return response
            case .failure(let error):
                var delay: Duration? = nil
                if error.isTransient && attempt < policy.maxAttempts {
                    let backoff = policy.backoff(retry: attempt, random: Double.random(in: 0..<1))
                    var wait = backoff
                    var retryAllowed = true
                    if case .rateLimited(_, let retryAfter?) = error {
                        let requested = Duration.milliseconds(Int64((retryAfter * 1000).rounded(.up)))
                        if requested > policy.maxRetryAfter { retryAllowed = false }
                        wait = max(requested, backoff)
                    }
                    if retryAllowed && (clock.now - start) + wait < policy.totalBudget {
                        delay = wait
                    }
                }
                let status = error.status
                if let delay {
                    report(request, attempt: attempt, status: status, duration: duration,
                           outcome: .willRetry(delay: delay), failure: error.description)
                    logger.debug(
                        "Waldur request failed, retrying",
                        metadata: [
                            "waldur.method": "\(request.method.rawValue)", "waldur.path": "\(request.pathTemplate)",
                            "waldur.attempt": "\(attempt)", "waldur.delay": "\(delay)",
                            "waldur.error": "\(error.description)",
                        ])
                    try await Task.sleep(for: delay)
                    continue
                }
                report(request, attempt: attempt, status: status, duration: duration, outcome: .failed,
                       failure: error.description)
                if error.isTransient && policy.maxAttempts > 1 {
                    throw WaldurError.retriesExhausted(attempts: attempt, last: error)
                }
                throw error
            }
        }
    }

    private func report(_ request: WaldurRequest, attempt: Int, status: Int?, duration: Duration,
                        outcome: WaldurHTTPAttempt.Outcome, failure: String? = nil) {
        observer?(WaldurHTTPAttempt(
            method: request.method.rawValue, pathTemplate: request.pathTemplate, attempt: attempt,
            status: status, duration: duration, outcome: outcome, failure: failure))
    }

    private func attemptOnce(_ request: WaldurRequest) async -> Result<WaldurResponse, WaldurError> {
        let query = request.query.encoded
        let url = endpoint.baseURL + request.path + (query.isEmpty ? "" : "?" + query)
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = request.method
        httpRequest.headers.add(name: "Authorization", value: "Token \(endpoint.token.secret)")
        httpRequest.headers.add(name: "User-Agent", value: endpoint.userAgent)
        httpRequest.headers.add(name: "Accept", value: "application/json")
        if let body = request.jsonBody {
            httpRequest.headers.add(name: "Content-Type", value: "application/json")
            httpRequest.body = .bytes(ByteBuffer(bytes: body))
        }
        let timeout = TimeAmount.nanoseconds(Int64(endpoint.requestTimeout.totalNanoseconds))
        let status: Int
        let headers: HTTPHeaders
        var body: [UInt8]
        // One exchange runs to its end (or its timeout) even when the caller is cancelled — the
        // daemon on SIGTERM — so a write in flight is answered and recorded; cancellation stops
        // the retries and the requests after it (`send` checks before each attempt and sleeps
        // cancellably between them).
        let client = httpClient, log = logger
        let exchange = Task { () async throws -> (Int, HTTPHeaders, [UInt8]) in
            let response = try await client.execute(httpRequest, timeout: timeout, logger: log)
            let buffer = try await response.body.collect(upTo: Self.maxBodyBytes)
            return (Int(response.status.code), response.headers, Array(buffer.readableBytesView))
        }
        do {
            (status, headers, body) = try await exchange.value
        } catch {
            return .failure(.transport(endpoint.token.redact(Self.describe(error))))
        }
        if (200..<300).contains(status) {
            return .success(WaldurResponse(status: status, headers: headers, body: body))
        }
        if request.method == .HEAD { body = [] }
        let message = WaldurServerMessage(body: body, token: endpoint.token)
        switch status {
        case 400:
            return .failure(message.contains("backfilling") ? .backfillRefused(message) : .validation(message))
        case 401: return .failure(.unauthorized(message))
        case 403: return .failure(.forbidden(message))
        case 404: return .failure(.notFound(message))
        case 429:
            return .failure(.rateLimited(message, retryAfterSeconds: WaldurRetryAfter.seconds(headers.first(name: "Retry-After"))))
        case 502, 503, 504: return .failure(.serverUnavailable(status: status, message))
        default: return .failure(.unexpectedStatus(status: status, message))
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product + attoseconds / 1_000_000_000
    }
}
