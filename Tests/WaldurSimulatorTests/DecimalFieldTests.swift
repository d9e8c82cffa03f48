import Testing
@testable import WaldurSimulator

/// DRF `DecimalField(max_digits=20, decimal_places=2)` as reference §1.1 (S8) describes it.
@Suite struct DecimalFieldTests {
    @Test(arguments: [
        ("1.5", "1.50"), ("1.50", "1.50"), ("0", "0.00"), ("-3", "-3.00"), ("  7.1 ", "7.10"),
        ("0012.50", "12.50"), (".5", "0.50"), ("5.", "5.00"), ("1E+3", "1000.00"), ("123456789012345678.99", "123456789012345678.99"),
    ])
    func accepted(input: String, rendered: String) {
        guard case .success(let value) = SimDecimal.validate(text: input) else {
            Issue.record("\(input) should be accepted")
            return
        }
        #expect(value.description == rendered)
    }

    @Test(arguments: [
        ("1.500", SimDecimal.Failure.maxDecimalPlaces),
        ("0.001", .maxDecimalPlaces),
        ("1e-5", .maxDecimalPlaces),
        ("1234567890123456789", .maxWholeDigits),
        ("123456789012345678901", .maxDigits),
        ("NaN", .invalid), ("Infinity", .invalid), ("abc", .invalid), ("", .invalid), ("1.2.3", .invalid), ("--1", .invalid),
    ])
    func refused(input: String, failure: SimDecimal.Failure) {
        guard case .failure(let actual) = SimDecimal.validate(text: input) else {
            Issue.record("\(input) should be refused")
            return
        }
        #expect(actual == failure)
    }

    @Test func jsonNumbersAreReadFromTheirText() {
        #expect(SimDecimal.validate(.int(5)) == .success(SimDecimal(hundredths: 500)))
        #expect(SimDecimal.validate(.double(1.5)) == .success(SimDecimal(hundredths: 150)))
        #expect(SimDecimal.validate(.double(0.30000000000000004)) == .failure(.maxDecimalPlaces))
        #expect(SimDecimal.validate(.bool(true)) == .failure(.invalid))
    }

    @Test func messagesAreDRFs() {
        #expect(SimDecimal.Failure.maxDecimalPlaces.rawValue == "Ensure that there are no more than 2 decimal places.")
        #expect(SimDecimal.Failure.maxWholeDigits.rawValue == "Ensure that there are no more than 18 digits before the decimal point.")
        #expect(SimDecimal.Failure.invalid.rawValue == "A valid number is required.")
    }
}
