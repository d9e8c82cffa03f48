import Foundation

/// The usage data the simulator stores: component usages keyed by (resource, type, billing month)
/// and per-user usages keyed by (component usage, username). This is what `--state` persists.
struct SimUsageStore: Sendable, Codable, Equatable {
    struct ComponentUsage: Sendable, Codable, Equatable {
        var uuid: String
        var resourceUUID: String
        var type: String
        var billingPeriod: SimBillingPeriod
        var usage: SimDecimal
        var date: Date
        var created: Date
        var description: String
        var recurring: Bool
        var missingUsagePolicy: String
        var modifiedBy: Int?
    }

    struct UserUsage: Sendable, Codable, Equatable {
        var uuid: String
        var componentUsageUUID: String
        var username: String
        var usage: SimDecimal
        /// The linked offering user's uuid (rendered as its URL).
        var offeringUserUUID: String?
        var created: Date
        var modified: Date
    }

    /// The records, in creation order. Changed only through the methods below, which keep the
    /// indexes in step (a record's identity — uuid, resource, type, month, parent, username —
    /// never changes once created).
    private(set) var componentUsages: [ComponentUsage] = []
    private(set) var userUsages: [UserUsage] = []
    /// `Resource.current_usages`: the components of the last `set_usage` call only.
    var currentUsages: [String: [String: SimDecimal]] = [:]

    /// What identifies a component usage: Waldur upserts by (resource, type, billing month).
    struct UsageKey: Hashable, Sendable {
        var resource: String
        var type: String
        var period: SimBillingPeriod
    }

    /// What identifies a user usage: (parent component usage, username).
    struct UserKey: Hashable, Sendable {
        var parent: String
        var username: String
    }

    // Derived from the records; rebuilt when decoded, never persisted or compared.
    private var usageByUUID: [String: Int] = [:]
    private var usageByKey: [UsageKey: Int] = [:]
    private var userRowByKey: [UserKey: Int] = [:]
    private var userRowsByParent: [String: [Int]] = [:]

    private enum CodingKeys: String, CodingKey {
        case componentUsages, userUsages, currentUsages
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for usage in try c.decode([ComponentUsage].self, forKey: .componentUsages) { _ = append(usage) }
        for row in try c.decode([UserUsage].self, forKey: .userUsages) { _ = append(row) }
        currentUsages = try c.decode([String: [String: SimDecimal]].self, forKey: .currentUsages)
    }

    static func == (lhs: SimUsageStore, rhs: SimUsageStore) -> Bool {
        lhs.componentUsages == rhs.componentUsages && lhs.userUsages == rhs.userUsages && lhs.currentUsages == rhs.currentUsages
    }

    func componentUsage(uuid: String) -> ComponentUsage? {
        usageByUUID[uuid].map { componentUsages[$0] }
    }

    func componentUsageIndex(uuid: String) -> Int? { usageByUUID[uuid] }

    func componentUsageIndex(resource: String, type: String, period: SimBillingPeriod) -> Int? {
        usageByKey[UsageKey(resource: resource, type: type, period: period)]
    }

    func userUsageIndex(parent: String, username: String) -> Int? {
        userRowByKey[UserKey(parent: parent, username: username)]
    }

    func userUsages(of componentUsageUUID: String) -> [UserUsage] {
        (userRowsByParent[componentUsageUUID] ?? []).map { userUsages[$0] }
    }

    /// Adds a component usage; returns its index. The first record of a (resource, type, month)
    /// or uuid stays the one found by lookups, as a linear search would find it.
    mutating func append(_ usage: ComponentUsage) -> Int {
        let index = componentUsages.count
        componentUsages.append(usage)
        if usageByUUID[usage.uuid] == nil { usageByUUID[usage.uuid] = index }
        let key = UsageKey(resource: usage.resourceUUID, type: usage.type, period: usage.billingPeriod)
        if usageByKey[key] == nil { usageByKey[key] = index }
        return index
    }

    /// Adds a user usage; returns its index.
    mutating func append(_ row: UserUsage) -> Int {
        let index = userUsages.count
        userUsages.append(row)
        let key = UserKey(parent: row.componentUsageUUID, username: row.username)
        if userRowByKey[key] == nil { userRowByKey[key] = index }
        userRowsByParent[row.componentUsageUUID, default: []].append(index)
        return index
    }

    /// Changes the values (not the identity) of the component usage at `index`.
    mutating func updateComponentUsage(at index: Int, _ change: (inout ComponentUsage) -> Void) {
        let before = componentUsages[index]
        change(&componentUsages[index])
        let after = componentUsages[index]
        precondition(after.uuid == before.uuid && after.resourceUUID == before.resourceUUID && after.type == before.type
                     && after.billingPeriod == before.billingPeriod, "a component usage's identity changed")
    }

    /// Changes the values (not the identity) of the user usage at `index`.
    mutating func updateUserUsage(at index: Int, _ change: (inout UserUsage) -> Void) {
        let before = userUsages[index]
        change(&userUsages[index])
        precondition(userUsages[index].componentUsageUUID == before.componentUsageUUID && userUsages[index].username == before.username,
                     "a user usage's identity changed")
    }

    /// Builds the seeded usages; throws `invalidSeed` naming the bad field and value.
    init(seed: SimulatorSeed, catalog: SimCatalog, now: Date) throws {
        for (index, entry) in (seed.componentUsages ?? []).enumerated() {
            let field = "component_usages[\(index)]"
            guard let resourceUUID = SimUUID.normalize(entry.resourceUUID), let resource = catalog.resource(resourceUUID) else {
                throw SimulatorError.invalidSeed("\(field).resource_uuid \"\(entry.resourceUUID)\" names no seeded resource")
            }
            guard catalog.offering(resource.offeringUUID)?.component(entry.type) != nil else {
                throw SimulatorError.invalidSeed("\(field).type \"\(entry.type)\" is not a component of the resource's offering")
            }
            guard let period = SimBillingPeriod(firstDay: entry.billingPeriod) else {
                throw SimulatorError.invalidSeed("\(field).billing_period \"\(entry.billingPeriod)\" is not YYYY-MM-01")
            }
            guard let usage = SimDecimal(entry.usage) else {
                throw SimulatorError.invalidSeed("\(field).usage \"\(entry.usage)\" is not a decimal with at most 2 places")
            }
            guard componentUsageIndex(resource: resourceUUID, type: entry.type, period: period) == nil else {
                throw SimulatorError.invalidSeed("\(field) duplicates another record for the same resource, type and month")
            }
            let date: Date
            if let text = entry.date {
                guard let parsed = SimDateTime.parse(text, naiveZone: TimeZone(secondsFromGMT: 0) ?? .current) else {
                    throw SimulatorError.invalidSeed("\(field).date \"\(text)\" is not an ISO-8601 datetime")
                }
                date = parsed
            } else {
                let components = DateComponents(year: period.year, month: period.month, day: 15, hour: 12)
                date = SimDateTime.utcCalendar.date(from: components) ?? now
            }
            let uuid: String
            if let given = entry.uuid {
                guard let normalized = SimUUID.normalize(given) else {
                    throw SimulatorError.invalidSeed("\(field).uuid \"\(given)\" is not a UUID")
                }
                uuid = normalized
            } else {
                uuid = SimUUID.random()
            }
            _ = append(ComponentUsage(
                uuid: uuid, resourceUUID: resourceUUID, type: entry.type, billingPeriod: period, usage: usage,
                date: date, created: date, description: entry.description ?? "", recurring: false,
                missingUsagePolicy: "none", modifiedBy: nil))
            for (uindex, userEntry) in (entry.userUsages ?? []).enumerated() {
                let ufield = "\(field).user_usages[\(uindex)]"
                guard let userUsage = SimDecimal(userEntry.usage) else {
                    throw SimulatorError.invalidSeed("\(ufield).usage \"\(userEntry.usage)\" is not a decimal with at most 2 places")
                }
                var offeringUserUUID: String?
                if let given = userEntry.offeringUserUUID {
                    guard let normalized = SimUUID.normalize(given), catalog.offeringUser(normalized) != nil else {
                        throw SimulatorError.invalidSeed("\(ufield).offering_user_uuid \"\(given)\" names no seeded offering user")
                    }
                    offeringUserUUID = normalized
                }
                guard userUsageIndex(parent: uuid, username: userEntry.username) == nil else {
                    throw SimulatorError.invalidSeed("\(ufield).username \"\(userEntry.username)\" appears twice")
                }
                _ = append(UserUsage(
                    uuid: try userEntry.uuid.map {
                        guard let value = SimUUID.normalize($0) else {
                            throw SimulatorError.invalidSeed("\(ufield).uuid \"\($0)\" is not a UUID")
                        }
                        return value
                    } ?? SimUUID.random(),
                    componentUsageUUID: uuid, username: userEntry.username, usage: userUsage,
                    offeringUserUUID: offeringUserUUID, created: date, modified: date))
            }
        }
    }
}
