import Foundation

/// An HTTP request reduced to what the simulator's handlers look at.
struct SimRequest: Sendable {
    var method: String
    var path: String
    /// Query parameters in order, percent-decoded (`+` is a space, as in Django).
    var query: [(name: String, value: String)]
    var authorization: String?
    var contentType: String?
    var userAgent: String?
    /// `Host` (authority), used to build absolute URLs as Django's `build_absolute_uri` does.
    var host: String
    var body: [UInt8]
    var peerIsLoopback: Bool

    /// Every value of a repeated parameter.
    func values(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// The last value of a parameter (Django's `QueryDict.get`).
    func value(_ name: String) -> String? {
        query.last(where: { $0.name == name })?.value
    }

    /// `http://host`, the prefix of every URL the simulator renders.
    var baseURL: String { "http://\(host)" }

    /// Splits and decodes a raw query string.
    static func parseQuery(_ raw: String?) -> [(name: String, value: String)] {
        guard let raw, !raw.isEmpty else { return [] }
        return raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            return (name, value)
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

