import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonWaldur

/// Builds the Waldur client for an offering of the configuration, and converts between the
/// client's wire types and the core's (both keep amounts as exact hundredths).
public enum WaldurConnection {
    public static let userAgentVersion = "0.1.0"

    public static func client(for offering: OfferingConfiguration, token override: String? = nil, logger: Logger,
                              retry: WaldurRetryPolicy = WaldurRetryPolicy(), requestTimeoutSeconds: Int64 = 120) throws -> WaldurClient {
        let raw = override ?? offering.token.reveal()
        guard let token = WaldurToken(raw) else {
            throw ReconcileError.configuration("offerings[\(offering.index)].waldur_api_token: empty; reckon needs an API token")
        }
        if !offering.verifySSL {
            logger.warning("TLS certificate verification is off for this offering (verify_ssl: false)", metadata: ["offering": "\(offering.name)"])
        }
        let endpoint: WaldurEndpoint
        do {
            endpoint = try WaldurEndpoint(apiURL: offering.apiURL, token: token, verifySSL: offering.verifySSL,
                                          allowInsecureHTTP: offering.allowInsecureHTTP,
                                          requestTimeout: .seconds(requestTimeoutSeconds), retry: retry,
                                          userAgent: WaldurEndpoint.defaultUserAgent(version: userAgentVersion))
        } catch {
            guard case .insecureHTTP = error else { throw error }
            throw ReconcileError.configuration("offerings[\(offering.index)].waldur_api_url: \"\(offering.apiURL)\" is plain http to a host that is not loopback, so the API token would cross the network unencrypted; use https, or set reckon.allow_insecure_http: true")
        }
        if endpoint.baseURL.hasPrefix("http:"), !WaldurEndpoint.isLoopback(host: endpoint.host) {   // allowed by allow_insecure_http
            logger.warning("plain http to Waldur is allowed (reckon.allow_insecure_http: true): the API token crosses the network unencrypted", metadata: ["offering": "\(offering.name)"])
        }
        return WaldurClient(endpoint: endpoint, logger: logger)
    }

    static func toCore(_ a: ReckonWaldur.WaldurAmount) -> ReckonCore.WaldurAmount {
        ReckonCore.WaldurAmount(hundredths: a.hundredths)
    }

    static func toWire(_ a: ReckonCore.WaldurAmount) throws -> ReckonWaldur.WaldurAmount {
        guard let w = ReckonWaldur.WaldurAmount(hundredths: a.hundredths) else {
            throw ReconcileError.invalidAmount(a.description)
        }
        return w
    }

    static func period(_ m: BillingMonth) -> WaldurBillingPeriod? { WaldurBillingPeriod(year: m.year, month: m.month) }

    /// Maps a failed call to the outcome recorded for its intent.
    static func outcome(of error: Error) -> SubmissionOutcome.Result {
        guard let e = error as? WaldurError else { return .ambiguous(message: "\(error)") }
        switch e {
        case .backfillRefused(let m): return .needsStaff(message: m.description)
        case .unauthorized, .forbidden, .notFound, .validation, .invalidRequest, .invalidConfiguration, .insecureHTTP:
            return .rejected(status: e.status ?? 0, message: e.description)
        case .unexpectedStatus(let status, _) where status < 500:
            return .rejected(status: status, message: e.description)
        case .retriesExhausted(_, let last):
            if case .backfillRefused(let m) = last { return .needsStaff(message: m.description) }
            return last.isTransient || (last.status ?? 0) >= 500 ? .ambiguous(message: e.description) : .rejected(status: last.status ?? 0, message: e.description)
        case .rateLimited, .serverUnavailable, .transport, .unexpectedStatus, .invalidResponse:
            return .ambiguous(message: e.description)
        }
    }
}

/// Why a reconcile step could not run.
public enum ReconcileError: Error, CustomStringConvertible {
    case configuration(String)
    case invalidAmount(String)
    case monthRolledOver(from: BillingMonth, to: BillingMonth)

    public var description: String {
        switch self {
        case .configuration(let m): return m
        case .invalidAmount(let a): return "amount \(a) cannot be sent to Waldur"
        case .monthRolledOver(let a, let b): return "the billing month changed from \(a) to \(b) during the tick; the rest waits for the next tick"
        }
    }
}
