import Foundation

/// The simulator's fixed data, validated from the seed: users and tokens, offerings and their
/// components, resources and offering users. Usage records live in `SimUsageStore`.
struct SimCatalog: Sendable {
    struct User: Sendable {
        var id: Int
        var uuid: String
        var username: String
        var token: String
        var isStaff: Bool
        var isSupport: Bool
        var serviceProviderFor: Set<String>
        var memberOfProjects: Set<String>
    }

    struct Component: Sendable {
        var type: String
        var billingType: String
        var measuredUnit: String
        var name: String
        var unitFactor: Int
        var limitPeriod: String?
        var limitAmount: Int?
    }

    struct Offering: Sendable {
        var uuid: String
        var customerUUID: String
        var name: String
        var serviceProviderCanCreateOfferingUser: Bool
        var components: [Component]

        func component(_ type: String) -> Component? {
            components.first { $0.type == type }
        }
    }

    struct Resource: Sendable {
        var uuid: String
        var offeringUUID: String
        var backendID: String
        var state: String
        var name: String
        var slug: String
        var projectUUID: String
        var projectName: String
        var customerUUID: String
        var customerName: String
        var hasPlan: Bool
    }

    struct OfferingUser: Sendable {
        var uuid: String
        var offeringUUID: String
        var username: String?
        var userUsername: String
        var userUUID: String
        var state: String
        var isRestricted: Bool
    }

    static let resourceStates = ["Creating", "OK", "Erred", "Updating", "Terminating", "Terminated"]
    static let billingTypes = ["usage", "limit", "one", "fixed", "few"]
    static let offeringUserStates = [
        "Requested", "Creating", "Pending account linking", "Pending additional validation", "OK",
        "Requested deletion", "Deleting", "Deleted", "Error creating", "Error deleting",
    ]

    // Fixed once the seed is read: lookups go through the indexes below, built in `init`.
    private(set) var users: [User]
    private(set) var offerings: [Offering]
    private(set) var resources: [Resource]
    private(set) var offeringUsers: [OfferingUser]
    var legacyMode: Bool
    private var userByToken: [String: Int] = [:]
    private var offeringByUUID: [String: Int] = [:]
    private var resourceByUUID: [String: Int] = [:]
    private var offeringUserByUUID: [String: Int] = [:]

    func user(token: String) -> User? { userByToken[token].map { users[$0] } }
    func offering(_ uuid: String) -> Offering? { offeringByUUID[uuid].map { offerings[$0] } }
    func resource(_ uuid: String) -> Resource? { resourceByUUID[uuid].map { resources[$0] } }
    func offeringUser(_ uuid: String) -> OfferingUser? { offeringUserByUUID[uuid].map { offeringUsers[$0] } }

    /// Staff, support, or a service provider of the resource's offering, or a member of its project.
    func canSee(_ user: User, resource: Resource) -> Bool {
        if user.isStaff || user.isSupport || user.memberOfProjects.contains(resource.projectUUID) { return true }
        return offering(resource.offeringUUID).map { user.serviceProviderFor.contains($0.customerUUID) } ?? false
    }

    /// Staff, support, or a service provider of the offering's customer (the provider view).
    func providerCanSee(_ user: User, offering: Offering) -> Bool {
        user.isStaff || user.isSupport || user.serviceProviderFor.contains(offering.customerUUID)
    }

    /// `RESOURCE.SET_USAGE`: staff, or the service provider owning the offering.
    func canSetUsage(_ user: User, offering: Offering) -> Bool {
        user.isStaff || user.serviceProviderFor.contains(offering.customerUUID)
    }

    /// Builds the catalog; throws `invalidSeed` naming the bad field and value.
    init(seed: SimulatorSeed) throws {
        func uuid(_ text: String?, _ field: String) throws -> String {
            guard let text, let value = SimUUID.normalize(text) else {
                throw SimulatorError.invalidSeed("\(field) \"\(text ?? "")\" is not a UUID")
            }
            return value
        }
        func derivedUUID(_ kind: String, _ key: String) -> String {
            // Stable, readable filler ids for fields a seed may omit.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in (kind + ":" + key).utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            var second = SplitMix64(seed: hash)
            return String(format: "%016llx%016llx", hash, second.next())
        }
        legacyMode = seed.legacyMode ?? false
        users = []
        var tokens = Set<String>()
        for (index, user) in seed.users.enumerated() {
            let field = "users[\(index)]"
            guard !user.token.isEmpty, !user.token.contains(where: \.isWhitespace) else {
                throw SimulatorError.invalidSeed("\(field).token is empty or contains whitespace")
            }
            guard tokens.insert(user.token).inserted else {
                throw SimulatorError.invalidSeed("\(field).token is used by another user")
            }
            userByToken[user.token] = users.count
            users.append(User(
                id: index + 1,
                uuid: try user.uuid.map { try uuid($0, "\(field).uuid") } ?? derivedUUID("user", user.username),
                username: user.username, token: user.token, isStaff: user.isStaff ?? false,
                isSupport: user.isSupport ?? false,
                serviceProviderFor: Set(try (user.serviceProviderFor ?? []).enumerated().map {
                    try uuid($0.element, "\(field).service_provider_for[\($0.offset)]")
                }),
                memberOfProjects: Set(try (user.memberOfProjects ?? []).enumerated().map {
                    try uuid($0.element, "\(field).member_of_projects[\($0.offset)]")
                })))
        }
        offerings = []
        for (index, offering) in seed.offerings.enumerated() {
            let field = "offerings[\(index)]"
            var components: [Component] = []
            for (cindex, component) in offering.components.enumerated() {
                let cfield = "\(field).components[\(cindex)]"
                guard !component.type.isEmpty else { throw SimulatorError.invalidSeed("\(cfield).type is empty") }
                guard SimCatalog.billingTypes.contains(component.billingType) else {
                    throw SimulatorError.invalidSeed(
                        "\(cfield).billing_type \"\(component.billingType)\" is not one of \(SimCatalog.billingTypes.joined(separator: ", "))")
                }
                guard !components.contains(where: { $0.type == component.type }) else {
                    throw SimulatorError.invalidSeed("\(cfield).type \"\(component.type)\" appears twice")
                }
                components.append(Component(
                    type: component.type, billingType: component.billingType,
                    measuredUnit: component.measuredUnit ?? "", name: component.name ?? component.type.uppercased(),
                    unitFactor: component.unitFactor ?? 1, limitPeriod: component.limitPeriod,
                    limitAmount: component.limitAmount))
            }
            let offeringUUID = try uuid(offering.uuid, "\(field).uuid")
            guard offeringByUUID[offeringUUID] == nil else {
                throw SimulatorError.invalidSeed("\(field).uuid \"\(offering.uuid)\" appears twice")
            }
            offeringByUUID[offeringUUID] = offerings.count
            offerings.append(Offering(
                uuid: offeringUUID, customerUUID: try uuid(offering.customerUUID, "\(field).customer_uuid"),
                name: offering.name ?? "Offering \(index + 1)",
                serviceProviderCanCreateOfferingUser: offering.serviceProviderCanCreateOfferingUser ?? false,
                components: components))
        }
        resources = []
        for (index, resource) in seed.resources.enumerated() {
            let field = "resources[\(index)]"
            let resourceUUID = try uuid(resource.uuid, "\(field).uuid")
            let offeringUUID = try uuid(resource.offeringUUID, "\(field).offering_uuid")
            guard offeringByUUID[offeringUUID] != nil else {
                throw SimulatorError.invalidSeed("\(field).offering_uuid \"\(resource.offeringUUID)\" names no seeded offering")
            }
            guard resourceByUUID[resourceUUID] == nil else {
                throw SimulatorError.invalidSeed("\(field).uuid \"\(resource.uuid)\" appears twice")
            }
            let state = resource.state ?? "OK"
            guard SimCatalog.resourceStates.contains(state) else {
                throw SimulatorError.invalidSeed(
                    "\(field).state \"\(state)\" is not one of \(SimCatalog.resourceStates.joined(separator: ", "))")
            }
            let name = resource.name ?? "resource-\(index + 1)"
            resourceByUUID[resourceUUID] = resources.count
            resources.append(Resource(
                uuid: resourceUUID, offeringUUID: offeringUUID, backendID: resource.backendID ?? "", state: state,
                name: name, slug: resource.slug ?? name.lowercased(),
                projectUUID: try resource.projectUUID.map { try uuid($0, "\(field).project_uuid") }
                    ?? derivedUUID("project", resourceUUID),
                projectName: resource.projectName ?? "Project of \(name)",
                customerUUID: try resource.customerUUID.map { try uuid($0, "\(field).customer_uuid") }
                    ?? derivedUUID("customer", resourceUUID),
                customerName: resource.customerName ?? "Customer of \(name)",
                hasPlan: resource.hasPlan ?? true))
        }
        offeringUsers = []
        for (index, offeringUser) in (seed.offeringUsers ?? []).enumerated() {
            let field = "offering_users[\(index)]"
            let offeringUUID = try uuid(offeringUser.offeringUUID, "\(field).offering_uuid")
            guard offeringByUUID[offeringUUID] != nil else {
                throw SimulatorError.invalidSeed(
                    "\(field).offering_uuid \"\(offeringUser.offeringUUID)\" names no seeded offering")
            }
            let state = offeringUser.state ?? "OK"
            guard SimCatalog.offeringUserStates.contains(state) else {
                throw SimulatorError.invalidSeed("\(field).state \"\(state)\" is not an offering user state")
            }
            if let username = offeringUser.username, username.isEmpty || username.count > 100 {
                throw SimulatorError.invalidSeed("\(field).username \"\(username)\" must have 1 to 100 characters")
            }
            let offeringUserUUID = try uuid(offeringUser.uuid, "\(field).uuid")
            // A later duplicate would be unreachable by uuid; the first one wins, as before.
            if offeringUserByUUID[offeringUserUUID] == nil { offeringUserByUUID[offeringUserUUID] = offeringUsers.count }
            offeringUsers.append(OfferingUser(
                uuid: offeringUserUUID, offeringUUID: offeringUUID,
                username: offeringUser.username, userUsername: offeringUser.userUsername,
                userUUID: try offeringUser.userUUID.map { try uuid($0, "\(field).user_uuid") }
                    ?? derivedUUID("person", offeringUser.userUsername),
                state: state, isRestricted: offeringUser.isRestricted ?? false))
        }
    }
}
