import Foundation

/// Reads RFC 8288 `Link` headers as Waldur's `LinkHeaderPagination` writes them:
/// `<https://host/api/x/?page=2>; rel="next", <...>; rel="last"`.
enum WaldurLinkHeader {
    /// The URL of the link with relation `rel`, or nil.
    static func url(rel wanted: String, in header: String) -> String? {
        for part in splitLinks(header) {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else {
                continue
            }
            let url = String(part[part.index(after: open)..<close])
            let params = part[part.index(after: close)...].split(separator: ";")
            for param in params {
                let pieces = param.split(separator: "=", maxSplits: 1)
                guard pieces.count == 2,
                      pieces[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else { continue }
                let values = pieces[1].trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    .split(separator: " ").map { $0.lowercased() }
                if values.contains(wanted.lowercased()) { return url }
            }
        }
        return nil
    }

    /// The `page` query parameter of a link URL.
    static func pageNumber(in url: String) -> Int? {
        guard let components = URLComponents(string: url) else { return nil }
        return components.queryItems?.first(where: { $0.name == "page" })?.value.flatMap { Int($0) }
    }

    /// Splits on commas outside `<...>` (URLs may contain commas).
    private static func splitLinks(_ header: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = header.startIndex
        for index in header.indices {
            switch header[index] {
            case "<": depth += 1
            case ">": depth = max(0, depth - 1)
            case "," where depth == 0:
                parts.append(header[start..<index])
                start = header.index(after: index)
            default: break
            }
        }
        parts.append(header[start...])
        return parts
    }
}

