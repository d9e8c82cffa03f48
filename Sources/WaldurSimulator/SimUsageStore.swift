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

    var componentUsages: [ComponentUsage] = []
    var userUsages: [UserUsage] = []
    /// `Resource.current_usages`: the components of the last `set_usage` call only.
    var currentUsages: [String: [String: SimDecimal]] = [:]

    func componentUsage(uuid: String) -> ComponentUsage? {
        componentUsages.first { $0.uuid == uuid }
    }

    func componentUsageIndex(resource: String, type: String, period: SimBillingPeriod) -> Int? {
        componentUsages.firstIndex { $0.resourceUUID == resource && $0.type == type && $0.billingPeriod == period }
    }

    func userUsages(of componentUsageUUID: String) -> [UserUsage] {
        userUsages.filter { $0.componentUsageUUID == componentUsageUUID }
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
            componentUsages.append(ComponentUsage(
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
                guard !userUsages.contains(where: { $0.componentUsageUUID == uuid && $0.username == userEntry.username }) else {
                    throw SimulatorError.invalidSeed("\(ufield).username \"\(userEntry.username)\" appears twice")
                }
                userUsages.append(UserUsage(
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
