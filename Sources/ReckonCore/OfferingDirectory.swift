/// What reckon knows of one Waldur offering's side: its resources (UUID → SLURM account and
/// state) and its offering users (cluster user name → offering-user URL). It is rebuilt from
/// ``DirectoryChange`` events, so every decision can be replayed with the directory it saw.
public struct OfferingDirectory: Hashable, Sendable {
    public var resources: [String: DirectoryResource] = [:]
    public var users: [String: String] = [:]

    public init() {}

    public mutating func apply(_ change: DirectoryChange) {
        for r in change.upsertedResources { resources[r.uuid] = r }
        for u in change.removedResources { resources[u] = nil }
        for u in change.upsertedUsers { users[u.username] = u.url }
        for u in change.removedUsers { users[u] = nil }
    }

    /// The change that turns `self` into `next`, or nil when they are equal.
    public func change(to next: OfferingDirectory, offering: String) -> DirectoryChange? {
        var c = DirectoryChange(offering: offering)
        for (k, r) in next.resources.sorted(by: { $0.key < $1.key }) where resources[k] != r { c.upsertedResources.append(r) }
        c.removedResources = resources.keys.filter { next.resources[$0] == nil }.sorted()
        for (k, u) in next.users.sorted(by: { $0.key < $1.key }) where users[k] != u { c.upsertedUsers.append(DirectoryUser(username: k, url: u)) }
        c.removedUsers = users.keys.filter { next.users[$0] == nil }.sorted()
        return c.isEmpty ? nil : c
    }

    /// SLURM account (lower-cased, as Slurm stores it) → the resources whose backend_id names it.
    /// More than one resource for an account is ambiguous; the reconciler skips them.
    public var resourcesByAccount: [String: [DirectoryResource]] {
        var out: [String: [DirectoryResource]] = [:]
        for r in resources.values.sorted(by: { $0.uuid < $1.uuid }) where !r.backendID.isEmpty {
            out[r.backendID.lowercased(), default: []].append(r)
        }
        return out
    }
}

/// A Waldur resource as the directory records it.
public struct DirectoryResource: Hashable, Sendable {
    public var uuid: String
    public var backendID: String
    public var state: String
    public var name: String

    public init(uuid: String, backendID: String, state: String, name: String) {
        self.uuid = uuid
        self.backendID = backendID
        self.state = state
        self.name = name
    }

    /// Waldur accepts usage for resources in these states (the reference's T13).
    public var acceptsUsage: Bool { ["OK", "Updating", "Terminating"].contains(state) }
}

/// An offering user: the cluster user name and the offering-user URL sent with user usage.
public struct DirectoryUser: Hashable, Sendable {
    public var username: String
    public var url: String

    public init(username: String, url: String) {
        self.username = username
        self.url = url
    }
}

/// The difference between two directory snapshots of one offering (the event payload).
public struct DirectoryChange: Hashable, Sendable {
    public var offering: String
    public var upsertedResources: [DirectoryResource] = []
    public var removedResources: [String] = []
    public var upsertedUsers: [DirectoryUser] = []
    public var removedUsers: [String] = []

    public init(offering: String) { self.offering = offering }

    public var isEmpty: Bool {
        upsertedResources.isEmpty && removedResources.isEmpty && upsertedUsers.isEmpty && removedUsers.isEmpty
    }
}
