import Foundation

/// DRF field validation, with DRF's messages, for the request bodies the simulator accepts.
enum SimFieldValidation {
    static let required = "This field is required."
    static let notNull = "This field may not be null."
    static let notBlank = "This field may not be blank."

    /// `CharField`: strings, and numbers converted to text; no bools, lists or objects.
    static func string(_ value: JSONValue?, allowBlank: Bool = false, maxLength: Int? = nil,
                       isRequired: Bool = true) -> FieldResult<String?> {
        guard let value else { return isRequired ? .fail(required) : .success(nil) }
        let text: String
        switch value {
        case .null: return .fail(notNull)
        case .string(let string): text = string
        case .int(let number): text = String(number)
        case .double(let number): text = "\(number)"
        case .bool, .array, .object: return .fail("Not a valid string.")
        }
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty && !allowBlank { return .fail(notBlank) }
        if let maxLength, trimmed.count > maxLength {
            return .fail("Ensure this field has no more than \(maxLength) characters.")
        }
        return .success(trimmed)
    }

    /// `BooleanField`.
    static func boolean(_ value: JSONValue?, default defaultValue: Bool) -> FieldResult<Bool> {
        guard let value else { return .success(defaultValue) }
        switch value {
        case .bool(let flag): return .success(flag)
        case .int(1): return .success(true)
        case .int(0): return .success(false)
        case .string(let text):
            switch text.lowercased() {
            case "true", "t", "yes", "y", "on", "1": return .success(true)
            case "false", "f", "no", "n", "off", "0": return .success(false)
            default: return .fail("Must be a valid boolean.")
            }
        case .null: return .fail(notNull)
        default: return .fail("Must be a valid boolean.")
        }
    }

    /// `ChoiceField`.
    static func choice(_ value: JSONValue?, _ choices: [String], default defaultValue: String) -> FieldResult<String> {
        guard let value else { return .success(defaultValue) }
        guard case .string(let text) = value else {
            if case .null = value { return .fail(notNull) }
            return .fail("\"\(value.serialized())\" is not a valid choice.")
        }
        return choices.contains(text) ? .success(text) : .fail("\"\(text)\" is not a valid choice.")
    }

    /// `DateTimeField`; a naive value is read in `zone`. `nil` and JSON null mean "not given".
    static func dateTime(_ value: JSONValue?, zone: TimeZone) -> FieldResult<Date?> {
        guard let value else { return .success(nil) }
        switch value {
        case .null: return .success(nil)
        case .string(let text):
            guard let date = SimDateTime.parse(text, naiveZone: zone) else { return .fail(SimDateTime.wrongFormat) }
            return .success(date)
        default: return .fail(SimDateTime.wrongFormat)
        }
    }

    /// `DecimalField(max_digits=20, decimal_places=2)`.
    static func decimal(_ value: JSONValue?, isRequired: Bool) -> FieldResult<SimDecimal?> {
        guard let value else { return isRequired ? .fail(required) : .success(nil) }
        if case .null = value { return .fail(notNull) }
        switch SimDecimal.validate(value) {
        case .success(let decimal): return .success(decimal)
        case .failure(let failure): return .fail(failure.rawValue)
        }
    }

    /// DRF's message for a body (or list item) that is not an object.
    static func expectedDictionary(_ value: JSONValue) -> String {
        "Invalid data. Expected a dictionary, but got \(value.pythonTypeName)."
    }
}

/// A DRF validation message for one field.
struct FieldMessage: Error, Sendable {
    let text: String
}

/// The outcome of validating one field.
typealias FieldResult<T> = Result<T, FieldMessage>

extension Result where Failure == FieldMessage {
    static func fail(_ text: String) -> Result { .failure(FieldMessage(text: text)) }
}
