/// One component total to report with `set_usage`.
public struct WaldurUsageItem: Sendable, Equatable {
    /// Component type, e.g. `cpu`.
    public let type: String
    /// The month-to-date total (never a delta: `set_usage` overwrites).
    public let amount: WaldurAmount
    /// Optional free text stored with the record (Waldur resets it to "" when omitted).
    public let description: String?

    public init(type: String, amount: WaldurAmount, description: String? = nil) {
        self.type = type
        self.amount = amount
        self.description = description
    }
}
