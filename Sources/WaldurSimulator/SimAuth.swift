/// Waldur's `TokenAuthentication` (reference §5, §9 "Auth"): `Authorization: Token <key>`, the
/// keyword case-insensitive, with DRF's 401 answers and `WWW-Authenticate: Token`.
enum SimAuth {
    enum Outcome {
        case user(SimCatalog.User)
        case rejected(SimResponse)
    }

    static func authenticate(_ header: String?, catalog: SimCatalog) -> Outcome {
        let parts = (header ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let keyword = parts.first, keyword.lowercased() == "token" else {
            return .rejected(unauthorized("Authentication credentials were not provided."))
        }
        if parts.count == 1 { return .rejected(unauthorized("Invalid token. No credentials provided.")) }
        if parts.count > 2 { return .rejected(unauthorized("Invalid token. Token string should not contain spaces.")) }
        guard let user = catalog.user(token: parts[1]) else { return .rejected(unauthorized("Invalid token.")) }
        return .user(user)
    }

    static func unauthorized(_ message: String) -> SimResponse {
        .detail(401, message, headers: [("WWW-Authenticate", "Token")])
    }
}
