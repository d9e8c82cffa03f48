/// A user's account on an offering: maps the cluster login (`username`) to the Waldur user.
///
/// Per-user usage carries `username` (the SLURM `User` column) and, when known, the offering
/// user's URL in `user`.
public struct WaldurOfferingUser: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    /// The API URL of this offering user, sent as `user` with per-user usage.
    public let url: String?
    /// The cluster login; Waldur allows null.
    public let username: String?
    /// The Waldur login of the person.
    public let userUsername: String?
    public let state: String?
    public let isRestricted: Bool?

    enum CodingKeys: String, CodingKey {
        case uuid, url, username, state
        case userUsername = "user_username"
        case isRestricted = "is_restricted"
    }

    public init(uuid: WaldurUUID, url: String?, username: String?, userUsername: String?,
                state: String?, isRestricted: Bool?) {
        self.uuid = uuid
        self.url = url
        self.username = username
        self.userUsername = userUsername
        self.state = state
        self.isRestricted = isRestricted
    }
}
