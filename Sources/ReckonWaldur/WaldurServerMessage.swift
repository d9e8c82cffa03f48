import Foundation

/// What a Waldur error response said, decoded from DRF's error body.
///
/// DRF answers with `{"detail": "..."}`, `{"field": ["..."]}`, `{"non_field_errors": ["..."]}` or,
/// for list items, `{"usages": [{"amount": ["..."]}, {}]}`. Callers need the text (to log it and
/// to recognise the backfill refusal), and the per-field messages (to know which item failed).
public struct WaldurServerMessage: Sendable, Equatable, CustomStringConvertible {
    /// Field path → messages. Nested item errors use `usages[0].amount`; a `detail` body is stored
    /// under `detail`; `non_field_errors` keeps its name.
    public let fields: [String: [String]]
    /// The raw body when it was not JSON (for example Django's HTML 404 page), shortened.
    public let rawText: String?

    public init(fields: [String: [String]], rawText: String? = nil) {
        self.fields = fields
        self.rawText = rawText
    }

    /// Decodes a response body; never fails (an undecodable body is kept as shortened raw text).
    init(body: [UInt8], token: WaldurToken) {
        let text = token.redact(String(decoding: body, as: UTF8.self))
        guard !body.isEmpty else {
            self.init(fields: [:], rawText: nil)
            return
        }
        if let json = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) {
            var fields: [String: [String]] = [:]
            Self.flatten(json, path: "", into: &fields)
            if !fields.isEmpty {
                self.init(fields: fields, rawText: nil)
                return
            }
        }
        self.init(fields: [:], rawText: String(text.prefix(300)))
    }

    private static func flatten(_ value: Any, path: String, into fields: inout [String: [String]]) {
        let key = path.isEmpty ? "non_field_errors" : path
        switch value {
        case let text as String:
            fields[key, default: []].append(text)
        case let dict as [String: Any]:
            for (name, child) in dict {
                flatten(child, path: path.isEmpty ? name : "\(path).\(name)", into: &fields)
            }
        case let list as [Any]:
            for (index, element) in list.enumerated() {
                if element is String {
                    flatten(element, path: path, into: &fields)
                } else {
                    flatten(element, path: "\(key)[\(index)]", into: &fields)
                }
            }
        case let number as NSNumber:
            fields[key, default: []].append(number.stringValue)
        default:
            break
        }
    }

    /// `detail` when the body was a generic error.
    public var detail: String? { fields["detail"]?.first }

    /// Every message, in a stable order (`field: message`).
    public var allMessages: [String] {
        fields.keys.sorted().flatMap { key in fields[key, default: []].map { "\(key): \($0)" } }
    }

    /// True when any message contains `fragment` (case-sensitive).
    public func contains(_ fragment: String) -> Bool {
        fields.values.contains { $0.contains { $0.contains(fragment) } } || (rawText?.contains(fragment) ?? false)
    }

    public var description: String {
        if let detail, fields.count == 1 { return detail }
        if !fields.isEmpty { return allMessages.joined(separator: "; ") }
        return rawText ?? "(empty body)"
    }
}
