/// A list endpoint's answer before paging: every matching item, filtered and in order, rendered
/// to JSON only for the page asked for (rendering is what a page of a long list costs).
struct SimList: Sendable {
    var count: Int
    var render: @Sendable (Range<Int>) -> [JSONValue]
}

/// A list handler's outcome: the list, or a response (a 400 for a bad filter).
enum SimListing: Sendable {
    case list(SimList)
    case failed(SimResponse)
}

/// Waldur's `LinkHeaderPagination` and `field=` restriction for list endpoints (reference §4.3).
enum SimPagination {
    static let defaultPageSize = 10
    static let maxPageSize = 100

    /// Answers a list request: a bare JSON array of one page, `X-Result-Count`, `Link` with
    /// absolute URLs, 404 `Invalid page.` past the end, no body for HEAD.
    static func respond(_ request: SimRequest, path: String, items: [JSONValue]) -> SimResponse {
        respond(request, path: path, list: SimList(count: items.count) { Array(items[$0]) })
    }

    /// The same for a list that renders only the requested page's items.
    static func respond(_ request: SimRequest, path: String, list: SimList) -> SimResponse {
        var pageSize = defaultPageSize
        if let text = request.value("page_size"), let value = Int(text), value > 0 {
            pageSize = min(value, maxPageSize)
        }
        let count = list.count
        let pageCount = max(1, (count + pageSize - 1) / pageSize)
        var page = 1
        if let text = request.value("page") {
            if text == "last" {
                page = pageCount
            } else if let value = Int(text), value >= 1, value <= pageCount {
                page = value
            } else {
                return .detail(404, "Invalid page.")
            }
        }
        let slice = list.render(min(count, (page - 1) * pageSize)..<min(count, page * pageSize))
        let fields = request.values("field")
        let rendered = JSONValue.array(fields.isEmpty ? slice : slice.map { restrict($0, to: fields) })

        var links: [String] = []
        links.append("<\(url(request, path: path, page: nil))>; rel=\"first\"")
        if page > 1 {
            links.append("<\(url(request, path: path, page: page - 1 == 1 ? nil : page - 1))>; rel=\"prev\"")
        }
        if page < pageCount {
            links.append("<\(url(request, path: path, page: page + 1))>; rel=\"next\"")
        }
        links.append("<\(url(request, path: path, page: pageCount == 1 ? nil : pageCount))>; rel=\"last\"")
        let headers: [(name: String, value: String)] = [("X-Result-Count", String(count)), ("Link", links.joined(separator: ", "))]
        if request.method == "HEAD" {
            return SimResponse(status: 200, headers: [("Content-Type", "application/json")] + headers, body: [])
        }
        return .json(200, rendered, headers: headers)
    }

    /// Keeps only the requested keys (Waldur's `RestrictedSerializerMixin`); unknown names are ignored.
    static func restrict(_ value: JSONValue, to fields: [String]) -> JSONValue {
        guard case .object(let pairs) = value else { return value }
        let wanted = Set(fields.flatMap { $0.split(separator: ",").map(String.init) })
        return .object(pairs.filter { wanted.contains($0.0) })
    }

    /// An absolute URL to another page, with the query sorted by key as Django's
    /// `replace_query_param` leaves it; `page: nil` removes the parameter.
    private static func url(_ request: SimRequest, path: String, page: Int?) -> String {
        var grouped: [String: [String]] = [:]
        for item in request.query where item.name != "page" {
            grouped[item.name, default: []].append(item.value)
        }
        if let page { grouped["page"] = [String(page)] }
        let query = grouped.keys.sorted().flatMap { key in
            (grouped[key] ?? []).map { "\(escape(key))=\(escape($0))" }
        }.joined(separator: "&")
        return request.baseURL + path + (query.isEmpty ? "" : "?" + query)
    }

    /// Python's `urlencode` (quote_plus).
    private static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// A single object (detail endpoints), with `field=` applied.
    static func detail(_ request: SimRequest, _ value: JSONValue) -> SimResponse {
        let fields = request.values("field")
        let rendered = fields.isEmpty ? value : restrict(value, to: fields)
        if request.method == "HEAD" {
            return SimResponse(status: 200, headers: [("Content-Type", "application/json")], body: [])
        }
        return .json(200, rendered)
    }
}
