/// Counts requests by method and path template, and their answers by status, for `GET /_sim/requests`.
///
/// Tests use it to check what a client really sent (retries, fallbacks, pagination) — rejected
/// and faulted requests included.
struct RequestCounter: Sendable {
    private(set) var counts: [String: Int] = [:]
    private(set) var statuses: [String: [String: Int]] = [:]
    /// `User-Agent` values seen on `/api/` requests (Waldur records agents' heartbeats from them).
    private(set) var userAgents: [String: Int] = [:]

    mutating func sawUserAgent(_ agent: String?) {
        userAgents[agent ?? "", default: 0] += 1
    }

    mutating func received(method: String, template: String) {
        counts["\(method) \(template)", default: 0] += 1
    }

    /// `outcome` is the status code, or `dropped` for a closed connection.
    mutating func answered(method: String, template: String, outcome: String) {
        statuses["\(method) \(template)", default: [:]][outcome, default: 0] += 1
    }

    var json: JSONValue {
        .object([
            ("counts", .object(counts.keys.sorted().map { ($0, .int(Int64(counts[$0] ?? 0))) })),
            ("statuses", .object(statuses.keys.sorted().map { key in
                let inner = statuses[key] ?? [:]
                return (key, .object(inner.keys.sorted().map { ($0, .int(Int64(inner[$0] ?? 0))) }))
            })),
            ("user_agents", .object(userAgents.keys.sorted().map { ($0, .int(Int64(userAgents[$0] ?? 0))) })),
        ])
    }
}
