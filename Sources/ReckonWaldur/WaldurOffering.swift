/// The parts of a provider offering the reporter needs: who owns it and its components.
public struct WaldurOffering: Sendable, Equatable, Decodable {
    public let uuid: WaldurUUID
    /// The service provider's organisation.
    public let customerUUID: WaldurUUID?
    public let components: [WaldurOfferingComponent]

    enum CodingKeys: String, CodingKey {
        case uuid, components
        case customerUUID = "customer_uuid"
    }

    public init(uuid: WaldurUUID, customerUUID: WaldurUUID?, components: [WaldurOfferingComponent]) {
        self.uuid = uuid
        self.customerUUID = customerUUID
        self.components = components
    }
}
