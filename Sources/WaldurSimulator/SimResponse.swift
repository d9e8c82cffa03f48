/// An answer from the simulator, before it is turned into a Hummingbird response.
struct SimResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    /// Close the connection instead of answering (fault "drop after write").
    var dropConnection = false

    /// JSON body with `Content-Type: application/json`.
    static func json(_ status: Int, _ value: JSONValue, headers: [(name: String, value: String)] = []) -> SimResponse {
        SimResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.bytes)
    }

    /// DRF's generic error body `{"detail": "..."}`.
    static func detail(_ status: Int, _ message: String, headers: [(name: String, value: String)] = []) -> SimResponse {
        json(status, .object([("detail", .string(message))]), headers: headers)
    }

    /// DRF's serializer error body: field → messages.
    static func fieldErrors(_ errors: [(String, [String])]) -> SimResponse {
        json(400, .object(errors.map { ($0.0, .array($0.1.map(JSONValue.string))) }))
    }

    /// One field, one message.
    static func fieldError(_ field: String, _ message: String) -> SimResponse {
        fieldErrors([(field, [message])])
    }

    /// `201 Created` with an empty body, as every usage write answers.
    static var created: SimResponse { SimResponse(status: 201) }

    /// Django's 404 page for a path no view matches (HTML, not JSON).
    static func noRoute(_ path: String) -> SimResponse {
        SimResponse(
            status: 404, headers: [("Content-Type", "text/html; charset=utf-8")],
            body: Array("<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n".utf8))
    }
}
