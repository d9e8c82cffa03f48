import Foundation
import ReckonWaldur
import Testing

/// The client's value types: UUIDs, amounts, billing periods, endpoint normalisation, token redaction.
@Suite struct ValueTypeTests {
    /// Site-agent trap 14: hex and dashed forms of one UUID must compare equal.
    @Test func uuidParsesHexAndDashedFormsAsTheSameValue() throws {
        let hex = try #require(WaldurUUID("10a0f810be1c43bbb651e8cbdbb90198"))
        let dashed = try #require(WaldurUUID("10a0f810-be1c-43bb-b651-e8cbdbb90198"))
        let upper = try #require(WaldurUUID("10A0F810BE1C43BBB651E8CBDBB90198"))
        #expect(hex == dashed)
        #expect(hex == upper)
        #expect(dashed.hex == "10a0f810be1c43bbb651e8cbdbb90198")
        #expect(hex.dashed == "10a0f810-be1c-43bb-b651-e8cbdbb90198")
        #expect(Set([hex, dashed, upper]).count == 1)
    }

    @Test(arguments: ["", "10a0f810be1c43bbb651e8cbdbb9019", "10a0f810be1c43bbb651e8cbdbb9019g", "{10a0f810-be1c-43bb-b651-e8cbdbb90198}",
                      "10a0f810-be1c43bb-b651-e8cbdbb901988"])
    func uuidRejectsOtherForms(text: String) {
        #expect(WaldurUUID(text) == nil)
    }

    /// Reference §1.1: at most 2 decimal places counting trailing zeros, at most 18 whole digits; sent as 2-dp strings.
    @Test func amountParsingAndRendering() {
        #expect(WaldurAmount("120.5")?.description == "120.50")
        #expect(WaldurAmount("120.50")?.description == "120.50")
        #expect(WaldurAmount("0")?.description == "0.00")
        #expect(WaldurAmount("-0.05")?.description == "-0.05")
        #expect(WaldurAmount("123456789012345678.99")?.description == "123456789012345678.99")
        #expect(WaldurAmount("1.500") == nil)
        #expect(WaldurAmount("1234567890123456789") == nil)
        #expect(WaldurAmount("1e3") == nil)
        #expect(WaldurAmount("abc") == nil)
        #expect(WaldurAmount("") == nil)
        #expect(WaldurAmount("120.50") == WaldurAmount("120.5"))
    }

    @Test func amountFromDecimalRoundsHalfEvenToTwoPlaces() throws {
        func decimal(_ text: String) throws -> Decimal { try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))) }
        #expect(WaldurAmount(rounding: try decimal("2.675"))?.description == "2.68")
        #expect(WaldurAmount(rounding: try decimal("2.665"))?.description == "2.66")
        #expect(WaldurAmount(rounding: try decimal("0.1"))?.description == "0.10")
        #expect(WaldurAmount(hundredths: 1234)?.decimalValue == (try decimal("12.34")))
    }

    @Test func billingPeriod() {
        let july = WaldurBillingPeriod(year: 2026, month: 7)
        #expect(july?.firstDay == "2026-07-01")
        #expect(july?.next == WaldurBillingPeriod(year: 2026, month: 8))
        #expect(WaldurBillingPeriod(year: 2026, month: 1)?.previous == WaldurBillingPeriod(year: 2025, month: 12))
        #expect(WaldurBillingPeriod(firstDay: "2026-07-01") == july)
        #expect(WaldurBillingPeriod(firstDay: "2026-07-02") == nil)
        #expect(WaldurBillingPeriod(year: 2026, month: 13) == nil)
    }

    /// Trap T20: remove a literal `/api/` suffix; the site agent's `rstrip("/api")` would turn
    /// `https://x.example.ai/api/` into `https://x.example.`.
    @Test(arguments: [
        ("https://x.example.ai/api/", "https://x.example.ai"),
        ("https://waldur.example.org/api", "https://waldur.example.org"),
        ("https://waldur.example.org/", "https://waldur.example.org"),
        ("https://waldur.example.org", "https://waldur.example.org"),
        ("https://host.example.org/waldur/api/", "https://host.example.org/waldur"),
        ("https://api.example.org:8443/api/", "https://api.example.org:8443"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080"),
        ("http://localhost/api/", "http://localhost"),
    ])
    func endpointNormalisesAPIURL(input: String, base: String) throws {
        let token = try #require(WaldurToken("t0k"))
        #expect(try WaldurEndpoint(apiURL: input, token: token).baseURL == base)
    }

    @Test func plainHTTPOnlyToLoopbackUnlessAllowed() throws {
        let token = try #require(WaldurToken("t0k"))
        do {
            _ = try WaldurEndpoint(apiURL: "http://waldur.example.org/api/", token: token)
            Issue.record("plain http to a remote host was accepted")
        } catch {
            guard case .insecureHTTP(let url) = error else { Issue.record("\(error)"); return }   // the case reckon turns into a config-key error
            #expect(url == "http://waldur.example.org/api/")
        }
        #expect(throws: Never.self) { try WaldurEndpoint(apiURL: "http://127.0.0.1:9/api/", token: token) }
        let allowed = try WaldurEndpoint(apiURL: "http://waldur.example.org/api/", token: token, allowInsecureHTTP: true)
        #expect(allowed.baseURL == "http://waldur.example.org")
        #expect(throws: WaldurError.self) { try WaldurEndpoint(apiURL: "ftp://waldur.example.org/", token: token) }
        #expect(throws: WaldurError.self) { try WaldurEndpoint(apiURL: "waldur.example.org/api/", token: token) }
        #expect(throws: WaldurError.self) { try WaldurEndpoint(apiURL: "https://waldur.example.org/api/", token: token, pageSize: 101) }
    }

    @Test func verifySSLIsOnByDefault() throws {
        let token = try #require(WaldurToken("t0k"))
        #expect(try WaldurEndpoint(apiURL: "https://waldur.example.org/api/", token: token).verifySSL)
    }

    @Test func tokenNeverPrints() throws {
        let secret = "SeCrEt-5f1c2d3e4a5b6c7d8e9f"
        let token = try #require(WaldurToken(secret))
        var dumped = ""
        dump(token, to: &dumped)
        let endpoint = try WaldurEndpoint(apiURL: "https://waldur.example.org/api/", token: token)
        var dumpedEndpoint = ""
        dump(endpoint, to: &dumpedEndpoint)
        for text in [token.description, token.debugDescription, "\(token)", String(reflecting: token), dumped,
                     endpoint.description, "\(endpoint)", String(reflecting: endpoint), dumpedEndpoint] {
            #expect(!text.contains(secret))
        }
        #expect(WaldurToken("") == nil)
        #expect(WaldurToken("has space") == nil)
        #expect(WaldurToken("line\nbreak") == nil)
    }
}
