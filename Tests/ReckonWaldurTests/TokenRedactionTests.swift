import Foundation
import ReckonWaldur
import Testing
import WaldurSimulator

/// Issue 3: "The token never appears in a log line, an error, an event or a test's output."
/// A distinctive token is used to trigger every error class; its text must appear nowhere.
@Suite struct TokenRedactionTests {
    static let secret = "ZZtok3nQ7vW9xY2aB4cD6eF8gH0jK1mN5pR"

    @Test func tokenAppearsInNoErrorLogOrEvent() async throws {
        let logs = LogCapture()
        var descriptions: [String] = []
        func record(_ body: () async throws -> Void) async {
            do {
                try await body()
                descriptions.append("(no error)")
            } catch {
                descriptions.append(String(describing: error))
                descriptions.append(String(reflecting: error))
                var dumped = ""
                dump(error, to: &dumped)
                descriptions.append(dumped)
            }
        }
        let cpu = [WaldurUsageItem(type: "cpu", amount: W.amount("1"))]
        let faults = SimulatorFaults(paths: ["/api/users/me/"], script: [
            .init(kind: "status", status: 503), .init(kind: "rate_limit", retryAfterSeconds: 0),
            .init(kind: "status", status: 500),
            .init(kind: "status", status: 503), .init(kind: "status", status: 503), .init(kind: "status", status: 503),
            .init(kind: "status", status: 503),
            .init(kind: "drop_after_write"), .init(kind: "drop_after_write"), .init(kind: "drop_after_write"),
            .init(kind: "drop_after_write"),
        ])
        // The distinctive token is the staff token of this Waldur.
        try await withClient(seed: W.seed(staffToken: Self.secret), token: Self.secret, faults: faults, logs: logs) { h in
            let client = h.client
            await record { _ = try await client.me() }  // 503, 429, then success
            await record { _ = try await client.me() }  // 500: unexpected status
            await record { _ = try await client.me() }  // 4 × 503: retries exhausted
            await record { _ = try await client.me() }  // 4 dropped connections: transport, exhausted
            await record { try await client.setUsage(resourceUUID: W.uuid(W.resourceErred), usages: cpu) }  // validation
            await record {
                try await client.setUserUsages(componentUsageUUID: W.uuid("ffffffffffffffffffffffffffffffff"),
                                               usages: [WaldurUserUsageItem(username: "a", usage: W.amount("1"))])
            }  // not found
            await record {
                try await client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: [WaldurUsageItem(type: "cpu", amount: W.amount("-1"))])
            }  // invalid request
            await record { try await client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: cpu, date: W.now.addingTimeInterval(86_400)) }
        }
        // Unauthorized (a wrong token that embeds the secret) and forbidden / backfill refusal.
        try await withClient(seed: W.seed(staffToken: Self.secret), token: Self.secret + "x", logs: logs) { h in
            await record { _ = try await h.client.me() }
        }
        try await withClient(seed: W.seed(staffToken: Self.secret), token: W.outsiderToken, logs: logs) { h in
            await record { try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: cpu) }
        }
        try await withClient(seed: W.seed(staffToken: Self.secret), token: W.providerToken, logs: logs) { h in
            await record {
                try await h.client.setUsage(resourceUUID: W.uuid(W.resourceA), usages: cpu, date: W.now.addingTimeInterval(-40 * 86_400))
            }
        }
        // Configuration errors and the disabled-TLS warning.
        if let token = WaldurToken(Self.secret) {
            await record { _ = try WaldurEndpoint(apiURL: "http://waldur.example.org/api/", token: token) }
            let insecure = try WaldurEndpoint(apiURL: "https://waldur.example.org/api/", token: token, verifySSL: false)
            try await withShutdown(of: WaldurClient(endpoint: insecure, logger: logs.logger("insecure"))) { _ in }
        }

        let kinds = descriptions.joined(separator: "\n")
        for expected in ["(401)", "(403)", "(404)", "(400)", "backfill", "unexpected Waldur status 500", "gave up after 4 attempts",
                         "transport", "refused to send", "invalid Waldur configuration"] {
            #expect(kinds.contains(expected), "no error of kind \(expected)")
        }
        #expect(logs.all.contains { $0.contains("TLS certificate verification is disabled") })
        #expect(logs.all.contains { $0.contains("retrying") })
        for text in descriptions where text.contains(Self.secret) {
            Issue.record("token leaked into an error description")
        }
        for line in logs.all where line.contains(Self.secret) {
            Issue.record("token leaked into a log line")
        }
    }

    @Test func observerEventsCarryNoToken() async throws {
        try await withClient(seed: W.seed(staffToken: Self.secret), token: Self.secret) { h in
            _ = try await h.client.me()
            _ = try await h.client.providerResources(offeringUUID: W.uuid(W.offering))
            #expect(h.attempts.all.count == 2)
            for attempt in h.attempts.all {
                var dumped = ""
                dump(attempt, to: &dumped)
                #expect(!dumped.contains(Self.secret))
                #expect(!attempt.description.contains(Self.secret))
            }
        }
    }
}
