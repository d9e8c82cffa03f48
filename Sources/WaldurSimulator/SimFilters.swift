import Foundation

/// django-filter parsing of list query parameters, with its error messages.
///
/// A malformed filter value is a 400 naming the parameter; an unknown parameter is ignored
/// (reference trap T10: a typo lists everything).
struct SimFilters {
    let request: SimRequest
    private(set) var errors: [(String, [String])] = []

    init(_ request: SimRequest) {
        self.request = request
    }

    /// UUID filter, repeatable and comma-separated; nil when absent.
    mutating func uuids(_ name: String) -> Set<String>? {
        let raw = request.values(name).flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        guard !raw.isEmpty else { return nil }
        var result = Set<String>()
        for value in raw {
            guard let id = SimUUID.normalize(value.trimmingWhitespace()) else {
                errors.append((name, ["Enter a valid UUID."]))
                return nil
            }
            result.insert(id)
        }
        return result
    }

    /// Multiple-choice filter; an unknown label is a 400 as in django-filter.
    mutating func choices(_ name: String, _ allowed: [String]) -> Set<String>? {
        let raw = request.values(name).filter { !$0.isEmpty }
        guard !raw.isEmpty else { return nil }
        for value in raw where !allowed.contains(value) {
            errors.append((name, ["Select a valid choice. \(value) is not one of the available choices."]))
            return nil
        }
        return Set(raw)
    }

    /// Exact text filter (last value wins, empty means absent).
    func text(_ name: String) -> String? {
        guard let value = request.value(name), !value.isEmpty else { return nil }
        return value
    }

    /// Boolean filter: true/false/1/0 in any case; anything else is ignored.
    func boolean(_ name: String) -> Bool? {
        switch request.value(name)?.lowercased() {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// Date filter `YYYY-MM-DD` → the same text normalised; malformed → 400 "Enter a valid date."
    mutating func date(_ name: String) -> String? {
        guard let value = text(name) else { return nil }
        guard let parsed = SimDateTime.parseDay(value) else {
            errors.append((name, ["Enter a valid date."]))
            return nil
        }
        return String(format: "%04d-%02d-%02d", parsed.year, parsed.month, parsed.day)
    }

    /// Number filter; malformed → 400 "Enter a number."
    mutating func number(_ name: String) -> Int? {
        guard let value = text(name) else { return nil }
        guard let number = Int(value) else {
            errors.append((name, ["Enter a number."]))
            return nil
        }
        return number
    }

    var failure: SimResponse? {
        errors.isEmpty ? nil : .fieldErrors(errors)
    }
}

