/// One user's usage to report with `set_user_usage(s)`.
public struct WaldurUserUsageItem: Sendable, Equatable {
    /// The cluster login (1...100 characters), as SLURM reports it.
    public let username: String
    /// The user's month-to-date usage of the parent's component.
    public let usage: WaldurAmount
    /// The offering user's API URL (`WaldurOfferingUser.url`), when the login is known to Waldur.
    public let offeringUserURL: String?

    public init(username: String, usage: WaldurAmount, offeringUserURL: String? = nil) {
        self.username = username
        self.usage = usage
        self.offeringUserURL = offeringUserURL
    }
}
