/// One value Waldur stores, as reckon addresses it: a resource's total for a component in a
/// billing month (`user == nil`, a ComponentUsage) or one user's share of it (a
/// ComponentUserUsage). Resources are Waldur UUIDs in hex; users are cluster user names.
public struct UsageTarget: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var resource: String
    public var month: BillingMonth
    public var component: String
    public var user: String?

    public init(resource: String, month: BillingMonth, component: String, user: String? = nil) {
        self.resource = resource
        self.month = month
        self.component = component
        self.user = user
    }

    public var resourceMonth: ResourceMonth { ResourceMonth(resource: resource, month: month) }
    /// The total this user value belongs to (itself for a total).
    public var total: UsageTarget { UsageTarget(resource: resource, month: month, component: component) }

    public var description: String { "\(resource)/\(month)/\(component)" + (user.map { "/\($0)" } ?? "") }

    public static func < (a: UsageTarget, b: UsageTarget) -> Bool {
        (a.resource, a.month, a.component, a.user ?? "") < (b.resource, b.month, b.component, b.user ?? "")
    }
}

/// A resource in a billing month: the unit of one `set_usage` call and of "needs a staff token".
public struct ResourceMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var resource: String
    public var month: BillingMonth

    public init(resource: String, month: BillingMonth) {
        self.resource = resource
        self.month = month
    }

    public var description: String { "\(resource)/\(month)" }
    public static func < (a: ResourceMonth, b: ResourceMonth) -> Bool { (a.resource, a.month) < (b.resource, b.month) }
}
