/// A query string with repeated keys (`field=uuid&field=type`), percent-encoded strictly.
struct WaldurQuery: Sendable {
    private(set) var items: [(name: String, value: String)] = []

    mutating func add(_ name: String, _ value: String) {
        items.append((name, value))
    }

    mutating func add(_ name: String, _ values: [String]) {
        for value in values { items.append((name, value)) }
    }

    /// The same query with `page` replaced.
    func with(page: Int) -> WaldurQuery {
        var copy = WaldurQuery()
        copy.items = items.filter { $0.name != "page" } + [("page", String(page))]
        return copy
    }

    var encoded: String {
        items.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
