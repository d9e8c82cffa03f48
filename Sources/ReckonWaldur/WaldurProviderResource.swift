/// A resource of an offering as the provider sees it; `backend_id` is the SLURM account.
public struct WaldurProviderResource: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    /// The SLURM account name; `""` when unset (Waldur never sends null here).
    public let backendID: String
    /// The state label as sent (kept as text so an unknown future label does not break listing).
    public let state: String
    public let name: String
    public let offeringUUID: WaldurUUID?
    public let projectUUID: WaldurUUID?

    enum CodingKeys: String, CodingKey {
        case uuid, state, name
        case backendID = "backend_id"
        case offeringUUID = "offering_uuid"
        case projectUUID = "project_uuid"
    }

    public init(uuid: WaldurUUID, backendID: String, state: String, name: String,
                offeringUUID: WaldurUUID?, projectUUID: WaldurUUID?) {
        self.uuid = uuid
        self.backendID = backendID
        self.state = state
        self.name = name
        self.offeringUUID = offeringUUID
        self.projectUUID = projectUUID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(WaldurUUID.self, forKey: .uuid)
        backendID = try container.decodeIfPresent(String.self, forKey: .backendID) ?? ""
        state = try container.decode(String.self, forKey: .state)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        offeringUUID = try container.decodeIfPresent(WaldurUUID.self, forKey: .offeringUUID)
        projectUUID = try container.decodeIfPresent(WaldurUUID.self, forKey: .projectUUID)
    }

    /// The state as an enum, nil for a label this client does not know.
    public var knownState: WaldurResourceState? { WaldurResourceState(rawValue: state) }
}
