/// A stored usage total for (resource, component type, billing month).
///
/// `set_usage` overwrites this record; the reconciler reads it back to compare with its own totals
/// and to find the record's uuid, which `set_user_usage(s)` needs.
public struct WaldurComponentUsage: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    /// The component type (`cpu`, ...).
    public let type: String
    public let usage: WaldurAmount
    public let billingPeriod: WaldurBillingPeriod
    public let resourceUUID: WaldurUUID?
    /// The `date` Waldur stored (ISO-8601 text as sent by the server).
    public let date: String?

    enum CodingKeys: String, CodingKey {
        case uuid, type, usage, date
        case billingPeriod = "billing_period"
        case resourceUUID = "resource_uuid"
    }

    public init(uuid: WaldurUUID, type: String, usage: WaldurAmount, billingPeriod: WaldurBillingPeriod,
                resourceUUID: WaldurUUID?, date: String?) {
        self.uuid = uuid
        self.type = type
        self.usage = usage
        self.billingPeriod = billingPeriod
        self.resourceUUID = resourceUUID
        self.date = date
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(WaldurUUID.self, forKey: .uuid)
        type = try container.decode(String.self, forKey: .type)
        usage = try container.decodeWaldurAmount(forKey: .usage)
        billingPeriod = try container.decodeBillingPeriod(forKey: .billingPeriod)
        resourceUUID = try container.decodeIfPresent(WaldurUUID.self, forKey: .resourceUUID)
        date = try container.decodeIfPresent(String.self, forKey: .date)
    }
}
