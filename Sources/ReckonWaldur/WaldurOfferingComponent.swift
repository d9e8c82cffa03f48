/// One component of an offering (`cpu`, `ram`, ...), as the provider-offerings endpoint lists it.
///
/// Only components with billing type `usage`, `limit` or `one` accept reported usage; sending any
/// other type makes Waldur reject the whole `set_usage` call.
public struct WaldurOfferingComponent: Sendable, Equatable, Decodable {
    /// The component's internal name, the `type` sent in `set_usage`.
    public let type: String
    /// `usage`, `limit`, `one`, `fixed` or `few`.
    public let billingType: String
    public let measuredUnit: String
    public let name: String
    /// Conversion factor from backend units to `measured_unit`, when Waldur provides one.
    public let unitFactor: Int?

    enum CodingKeys: String, CodingKey {
        case type, name
        case billingType = "billing_type"
        case measuredUnit = "measured_unit"
        case unitFactor = "unit_factor"
    }

    public init(type: String, billingType: String, measuredUnit: String, name: String, unitFactor: Int?) {
        self.type = type
        self.billingType = billingType
        self.measuredUnit = measuredUnit
        self.name = name
        self.unitFactor = unitFactor
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        billingType = try container.decode(String.self, forKey: .billingType)
        measuredUnit = try container.decodeIfPresent(String.self, forKey: .measuredUnit) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        unitFactor = try container.decodeIfPresent(Int.self, forKey: .unitFactor)
    }

    /// True when Waldur accepts reported usage for this component (`usage`, `limit`, `one`).
    public var acceptsReportedUsage: Bool {
        ["usage", "limit", "one"].contains(billingType)
    }
}
