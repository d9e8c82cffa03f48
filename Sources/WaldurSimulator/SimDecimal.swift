/// An exact two-decimal amount validated like Waldur's `DecimalField(max_digits=20, decimal_places=2)`.
///
/// The double must accept and refuse exactly what DRF does (S8 `DecimalField`): the value is read
/// from its text (`str()` of a JSON number), decimal places are counted from the literal with
/// trailing zeros, and nothing is rounded.
struct SimDecimal: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Value in hundredths.
    let hundredths: Int128

    static let zero = SimDecimal(hundredths: 0)

    init(hundredths: Int128) {
        self.hundredths = hundredths
    }

    /// DRF's messages for `max_digits=20, decimal_places=2`.
    enum Failure: String, Error {
        case invalid = "A valid number is required."
        case maxDigits = "Ensure that there are no more than 20 digits in total."
        case maxDecimalPlaces = "Ensure that there are no more than 2 decimal places."
        case maxWholeDigits = "Ensure that there are no more than 18 digits before the decimal point."
        case tooLong = "String value too large."
    }

    /// Validates a JSON value as DRF's `DecimalField.to_internal_value` does.
    static func validate(_ value: JSONValue) -> Result<SimDecimal, Failure> {
        switch value {
        case .string(let text): return validate(text: text)
        case .int(let number): return validate(text: String(number))
        case .double(let number): return validate(text: pythonFloatText(number))
        case .bool(let flag): return validate(text: flag ? "True" : "False")
        case .null, .array, .object: return .failure(.invalid)
        }
    }

    /// Python's `str(float)`: shortest round-trip digits, like Swift's description.
    private static func pythonFloatText(_ number: Double) -> String {
        number.isFinite ? "\(number)" : "nan"
    }

    /// `decimal.Decimal(text)` followed by `validate_precision`.
    static func validate(text raw: String) -> Result<SimDecimal, Failure> {
        let text = raw.trimmingWhitespace()
        guard text.count <= 1000 else { return .failure(.tooLong) }
        var chars = Substring(text)
        var negative = false
        if let sign = chars.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            chars = chars.dropFirst()
        }
        var mantissa = chars
        var exponent = 0
        if let e = chars.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = chars[..<e]
            var expText = chars[chars.index(after: e)...]
            var expNegative = false
            if let sign = expText.first, sign == "+" || sign == "-" {
                expNegative = sign == "-"
                expText = expText.dropFirst()
            }
            guard !expText.isEmpty, expText.count < 10, expText.allSatisfy(\.isASCIIDigit), let value = Int(expText) else {
                return .failure(.invalid)
            }
            exponent = expNegative ? -value : value
        }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { return .failure(.invalid) }
        let whole = pieces[0]
        let fraction = pieces.count == 2 ? pieces[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else {
            return .failure(.invalid)
        }
        // Python's Decimal keeps trailing zeros but drops leading ones: digits and exponent.
        var digits = Array(whole + fraction)
        exponent -= fraction.count
        while digits.count > 1 && digits.first == "0" { digits.removeFirst() }
        let digitCount = digits.count
        let totalDigits: Int
        let wholeDigits: Int
        let decimalPlaces: Int
        if exponent >= 0 {
            totalDigits = digitCount + exponent
            wholeDigits = totalDigits
            decimalPlaces = 0
        } else if digitCount > -exponent {
            totalDigits = digitCount
            wholeDigits = digitCount + exponent
            decimalPlaces = -exponent
        } else {
            totalDigits = -exponent
            wholeDigits = 0
            decimalPlaces = totalDigits
        }
        if totalDigits > 20 { return .failure(.maxDigits) }
        if decimalPlaces > 2 { return .failure(.maxDecimalPlaces) }
        if wholeDigits > 18 { return .failure(.maxWholeDigits) }
        var value: Int128 = 0
        for digit in digits {
            value = value * 10 + Int128(digit.wholeNumberValue ?? 0)
        }
        // Scale to hundredths: exponent is in -2...18 here.
        var scale = exponent + 2
        while scale > 0 {
            value *= 10
            scale -= 1
        }
        return .success(SimDecimal(hundredths: negative ? -value : value))
    }

    /// Parses a value this simulator wrote itself (seed files, state files): same rules.
    init?(_ text: String) {
        guard case .success(let value) = SimDecimal.validate(text: text) else { return nil }
        self = value
    }

    /// Two decimal places, as DRF renders a quantized `DecimalField`: `"120.50"`.
    var description: String {
        let magnitude = hundredths.magnitude
        let cents = Int(magnitude % 100)
        return "\(hundredths < 0 ? "-" : "")\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    static func < (lhs: SimDecimal, rhs: SimDecimal) -> Bool {
        lhs.hundredths < rhs.hundredths
    }

    static func + (lhs: SimDecimal, rhs: SimDecimal) -> SimDecimal {
        SimDecimal(hundredths: lhs.hundredths + rhs.hundredths)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = SimDecimal(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a 2-decimal amount")
        }
        self = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
