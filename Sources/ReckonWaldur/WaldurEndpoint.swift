import Foundation

/// Where and how to reach one Waldur Mastermind, with the settings the client must honour.
///
/// It normalises the configured `api_url` (a trailing `/api/` is removed as a suffix, unlike the
/// site agent's character strip), refuses plain `http://` to anything but loopback unless allowed,
/// and keeps the token inside a redacting wrapper.
public struct WaldurEndpoint: Sendable, CustomStringConvertible {
    /// The normalised base URL: scheme, host, optional port and path prefix, without `/api` and
    /// without a trailing slash, e.g. `https://waldur.example.org` or `http://127.0.0.1:8080`.
    public let baseURL: String
    /// Host part of the base URL (for logs).
    public let host: String
    /// The API token.
    public let token: WaldurToken
    /// Verify the server's TLS certificate (default on). `false` is honoured with a warning.
    public var verifySSL: Bool
    /// Allow `http://` to a non-loopback host. Off by default: the token would travel in clear.
    public let allowInsecureHTTP: Bool
    /// Connect timeout per attempt.
    public var connectTimeout: Duration
    /// Deadline for one HTTP attempt (request sent, response fully read).
    public var requestTimeout: Duration
    /// Retry behaviour for transient failures.
    public var retry: WaldurRetryPolicy
    /// `page_size` sent on list calls (1...100; Waldur clients stay at or below 100).
    public var pageSize: Int
    /// `User-Agent` header.
    public var userAgent: String

    /// The User-Agent used when none is given: `reckon/<version>`.
    public static func defaultUserAgent(version: String) -> String {
        "reckon/\(version)"
    }

    /// Builds an endpoint from the configured `api_url`.
    ///
    /// Accepts `https://host`, `https://host/`, `https://host/api`, `https://host/api/` and the same with
    /// a path prefix (`https://host/waldur/api/`). Throws `invalidConfiguration` naming the value
    /// for a URL without scheme or host, with a query or fragment, with an unsupported scheme,
    /// or with plain `http` to a non-loopback host when `allowInsecureHTTP` is false.
    public init(
        apiURL: String,
        token: WaldurToken,
        verifySSL: Bool = true,
        allowInsecureHTTP: Bool = false,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(600),
        retry: WaldurRetryPolicy = WaldurRetryPolicy(),
        pageSize: Int = 100,
        userAgent: String = WaldurEndpoint.defaultUserAgent(version: "0.1.0")
    ) throws(WaldurError) {
        let trimmed = apiURL.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed),
              let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else {
            throw .invalidConfiguration("api_url \"\(apiURL)\" is not an absolute URL with a host")
        }
        guard scheme == "https" || scheme == "http" else {
            throw .invalidConfiguration("api_url \"\(apiURL)\" must use https (or http to loopback)")
        }
        guard components.query == nil, components.fragment == nil else {
            throw .invalidConfiguration("api_url \"\(apiURL)\" must not have a query or fragment")
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidConfiguration("api_url must not embed credentials")
        }
        if scheme == "http" && !allowInsecureHTTP && !WaldurEndpoint.isLoopback(host: host) {
            throw .insecureHTTP(url: apiURL)
        }
        guard (1...100).contains(pageSize) else {
            throw .invalidConfiguration("page size \(pageSize) must be between 1 and 100")
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/api") { path.removeLast(4) }
        while path.hasSuffix("/") { path.removeLast() }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let portPart = components.port.map { ":\($0)" } ?? ""
        self.baseURL = "\(scheme)://\(hostPart)\(portPart)\(path)"
        self.host = host
        self.token = token
        self.verifySSL = verifySSL
        self.allowInsecureHTTP = allowInsecureHTTP
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.pageSize = pageSize
        self.userAgent = userAgent
    }

    /// True for `localhost`, 127.0.0.0/8 and `::1`.
    public static func isLoopback(host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    public var description: String {
        "WaldurEndpoint(\(baseURL), token: <redacted>, verifySSL: \(verifySSL))"
    }
}
