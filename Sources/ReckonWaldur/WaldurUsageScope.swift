/// Which usage records to list: those of one resource, or of every resource of an offering.
public enum WaldurUsageScope: Sendable, Equatable {
    case resource(WaldurUUID)
    case offering(WaldurUUID)

    var queryItem: (name: String, value: String) {
        switch self {
        case .resource(let uuid): ("resource_uuid", uuid.hex)
        case .offering(let uuid): ("offering_uuid", uuid.hex)
        }
    }
}
