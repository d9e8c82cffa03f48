/// A stored per-user usage under a component usage, keyed by (component usage, username).
///
/// Waldur never deletes these rows; the reconciler reads them to zero users that no longer appear.
public struct WaldurComponentUserUsage: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    public let username: String
    public let usage: WaldurAmount
    /// The parent record, taken from the last path segment of the `component_usage` URL.
    public let componentUsageUUID: WaldurUUID
    public let componentType: String?
    public let resourceUUID: WaldurUUID?
    public let billingPeriod: WaldurBillingPeriod?
    /// The offering user's URL, if the row is linked to one.
    public let userURL: String?

    enum CodingKeys: String, CodingKey {
        case uuid, username, usage, user
        case componentUsage = "component_usage"
        case componentType = "component_type"
        case resourceUUID = "resource_uuid"
        case billingPeriod = "billing_period"
    }

    public init(uuid: WaldurUUID, username: String, usage: WaldurAmount, componentUsageUUID: WaldurUUID,
                componentType: String?, resourceUUID: WaldurUUID?, billingPeriod: WaldurBillingPeriod?,
                userURL: String?) {
        self.uuid = uuid
        self.username = username
        self.usage = usage
        self.componentUsageUUID = componentUsageUUID
        self.componentType = componentType
        self.resourceUUID = resourceUUID
        self.billingPeriod = billingPeriod
        self.userURL = userURL
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(WaldurUUID.self, forKey: .uuid)
        username = try container.decode(String.self, forKey: .username)
        usage = try container.decodeWaldurAmount(forKey: .usage)
        let parentURL = try container.decode(String.self, forKey: .componentUsage)
        let lastSegment = parentURL.split(separator: "/").last.map(String.init) ?? ""
        guard let parent = WaldurUUID(lastSegment) else {
            throw DecodingError.dataCorruptedError(
                forKey: .componentUsage, in: container, debugDescription: "\"\(parentURL)\" does not end in a uuid")
        }
        componentUsageUUID = parent
        componentType = try container.decodeIfPresent(String.self, forKey: .componentType)
        resourceUUID = try container.decodeIfPresent(WaldurUUID.self, forKey: .resourceUUID)
        billingPeriod = try container.decodeIfPresent(String.self, forKey: .billingPeriod)
            .flatMap(WaldurBillingPeriod.init(firstDay:))
        userURL = try container.decodeIfPresent(String.self, forKey: .user)
    }
}
