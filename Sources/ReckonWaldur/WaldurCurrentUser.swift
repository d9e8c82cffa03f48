/// The user behind the token (`GET /api/users/me/`).
///
/// The reporter needs `is_staff` before backfilling: only staff may report usage-billed components
/// for past months.
public struct WaldurCurrentUser: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    public let username: String
    public let isStaff: Bool
    public let isSupport: Bool

    enum CodingKeys: String, CodingKey {
        case uuid, username
        case isStaff = "is_staff"
        case isSupport = "is_support"
    }

    public init(uuid: WaldurUUID, username: String, isStaff: Bool, isSupport: Bool) {
        self.uuid = uuid
        self.username = username
        self.isStaff = isStaff
        self.isSupport = isSupport
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(WaldurUUID.self, forKey: .uuid)
        username = try container.decode(String.self, forKey: .username)
        isStaff = try container.decode(Bool.self, forKey: .isStaff)
        isSupport = try container.decodeIfPresent(Bool.self, forKey: .isSupport) ?? false
    }
}
