import Foundation
import Yams

/// The simulator's starting data, read from YAML (`reckon waldur-sim --seed FILE`).
///
/// Tests and scripts describe the Waldur they need (users and tokens, offerings with components,
/// resources, offering users, and optionally usages already stored) in one readable file; see
/// `docs/waldur-simulator.md` for the format.
public struct SimulatorSeed: Sendable, Codable, Equatable {
    /// A user and its API token.
    public struct User: Sendable, Codable, Equatable {
        public var token: String
        public var username: String
        public var uuid: String?
        public var isStaff: Bool?
        public var isSupport: Bool?
        /// Customers (service-provider organisations) whose offerings this user may report usage for.
        public var serviceProviderFor: [String]?
        /// Projects whose resources this user can see as a consumer (no usage permission).
        public var memberOfProjects: [String]?

        enum CodingKeys: String, CodingKey {
            case token, username, uuid
            case isStaff = "is_staff"
            case isSupport = "is_support"
            case serviceProviderFor = "service_provider_for"
            case memberOfProjects = "member_of_projects"
        }

        public init(token: String, username: String, uuid: String? = nil, isStaff: Bool? = nil,
                    isSupport: Bool? = nil, serviceProviderFor: [String]? = nil, memberOfProjects: [String]? = nil) {
            self.token = token
            self.username = username
            self.uuid = uuid
            self.isStaff = isStaff
            self.isSupport = isSupport
            self.serviceProviderFor = serviceProviderFor
            self.memberOfProjects = memberOfProjects
        }
    }

    /// An offering component.
    public struct Component: Sendable, Codable, Equatable {
        public var type: String
        /// `usage`, `limit`, `one`, `fixed` or `few`.
        public var billingType: String
        public var measuredUnit: String?
        public var name: String?
        public var unitFactor: Int?
        public var limitPeriod: String?
        public var limitAmount: Int?

        enum CodingKeys: String, CodingKey {
            case type, name
            case billingType = "billing_type"
            case measuredUnit = "measured_unit"
            case unitFactor = "unit_factor"
            case limitPeriod = "limit_period"
            case limitAmount = "limit_amount"
        }

        public init(type: String, billingType: String, measuredUnit: String? = nil, name: String? = nil,
                    unitFactor: Int? = nil, limitPeriod: String? = nil, limitAmount: Int? = nil) {
            self.type = type
            self.billingType = billingType
            self.measuredUnit = measuredUnit
            self.name = name
            self.unitFactor = unitFactor
            self.limitPeriod = limitPeriod
            self.limitAmount = limitAmount
        }
    }

    /// A marketplace offering.
    public struct Offering: Sendable, Codable, Equatable {
        public var uuid: String
        public var customerUUID: String
        public var name: String?
        /// Waldur's `secret_options.service_provider_can_create_offering_user`; when false (the
        /// default, as in Waldur) non-staff callers see no offering users of this offering.
        public var serviceProviderCanCreateOfferingUser: Bool?
        public var components: [Component]

        enum CodingKeys: String, CodingKey {
            case uuid, name, components
            case customerUUID = "customer_uuid"
            case serviceProviderCanCreateOfferingUser = "service_provider_can_create_offering_user"
        }

        public init(uuid: String, customerUUID: String, name: String? = nil,
                    serviceProviderCanCreateOfferingUser: Bool? = nil, components: [Component]) {
            self.uuid = uuid
            self.customerUUID = customerUUID
            self.name = name
            self.serviceProviderCanCreateOfferingUser = serviceProviderCanCreateOfferingUser
            self.components = components
        }
    }

    /// A resource (allocation) of an offering.
    public struct Resource: Sendable, Codable, Equatable {
        public var uuid: String
        public var offeringUUID: String
        public var backendID: String?
        /// `Creating`, `OK`, `Erred`, `Updating`, `Terminating` or `Terminated`.
        public var state: String?
        public var name: String?
        public var slug: String?
        public var projectUUID: String?
        public var projectName: String?
        public var customerUUID: String?
        public var customerName: String?
        /// False reproduces "Resource must have a plan to report usage".
        public var hasPlan: Bool?

        enum CodingKeys: String, CodingKey {
            case uuid, state, name, slug
            case offeringUUID = "offering_uuid"
            case backendID = "backend_id"
            case projectUUID = "project_uuid"
            case projectName = "project_name"
            case customerUUID = "customer_uuid"
            case customerName = "customer_name"
            case hasPlan = "has_plan"
        }

        public init(uuid: String, offeringUUID: String, backendID: String? = nil, state: String? = nil,
                    name: String? = nil, slug: String? = nil, projectUUID: String? = nil, projectName: String? = nil,
                    customerUUID: String? = nil, customerName: String? = nil, hasPlan: Bool? = nil) {
            self.uuid = uuid
            self.offeringUUID = offeringUUID
            self.backendID = backendID
            self.state = state
            self.name = name
            self.slug = slug
            self.projectUUID = projectUUID
            self.projectName = projectName
            self.customerUUID = customerUUID
            self.customerName = customerName
            self.hasPlan = hasPlan
        }
    }

    /// A user's account on an offering.
    public struct OfferingUser: Sendable, Codable, Equatable {
        public var uuid: String
        public var offeringUUID: String
        /// The cluster login; may be null.
        public var username: String?
        public var userUsername: String
        public var userUUID: String?
        public var state: String?
        public var isRestricted: Bool?

        enum CodingKeys: String, CodingKey {
            case uuid, username, state
            case offeringUUID = "offering_uuid"
            case userUsername = "user_username"
            case userUUID = "user_uuid"
            case isRestricted = "is_restricted"
        }

        public init(uuid: String, offeringUUID: String, username: String?, userUsername: String,
                    userUUID: String? = nil, state: String? = nil, isRestricted: Bool? = nil) {
            self.uuid = uuid
            self.offeringUUID = offeringUUID
            self.username = username
            self.userUsername = userUsername
            self.userUUID = userUUID
            self.state = state
            self.isRestricted = isRestricted
        }
    }

    /// A per-user usage already stored under a seeded component usage.
    public struct UserUsage: Sendable, Codable, Equatable {
        public var uuid: String?
        public var username: String
        public var usage: String
        /// The offering user this row links to (`user`), if any.
        public var offeringUserUUID: String?

        enum CodingKeys: String, CodingKey {
            case uuid, username, usage
            case offeringUserUUID = "offering_user_uuid"
        }

        public init(uuid: String? = nil, username: String, usage: String, offeringUserUUID: String? = nil) {
            self.uuid = uuid
            self.username = username
            self.usage = usage
            self.offeringUserUUID = offeringUserUUID
        }
    }

    /// A component usage already stored.
    public struct ComponentUsage: Sendable, Codable, Equatable {
        public var uuid: String?
        public var resourceUUID: String
        public var type: String
        /// `YYYY-MM-01`.
        public var billingPeriod: String
        public var usage: String
        /// ISO-8601 with offset; defaults to noon UTC on the 15th of the billing month.
        public var date: String?
        public var description: String?
        public var userUsages: [UserUsage]?

        enum CodingKeys: String, CodingKey {
            case uuid, type, usage, date, description
            case resourceUUID = "resource_uuid"
            case billingPeriod = "billing_period"
            case userUsages = "user_usages"
        }

        public init(uuid: String? = nil, resourceUUID: String, type: String, billingPeriod: String, usage: String,
                    date: String? = nil, description: String? = nil, userUsages: [UserUsage]? = nil) {
            self.uuid = uuid
            self.resourceUUID = resourceUUID
            self.type = type
            self.billingPeriod = billingPeriod
            self.usage = usage
            self.date = date
            self.description = description
            self.userUsages = userUsages
        }
    }

    /// The server's `TIME_ZONE` (IANA name); `--time-zone` overrides it. Default `UTC`.
    public var timeZone: String?
    /// Behave like a 2024 server: ignore `date`, no `set_user_usages`, reject limit overruns.
    public var legacyMode: Bool?
    public var users: [User]
    public var offerings: [Offering]
    public var resources: [Resource]
    public var offeringUsers: [OfferingUser]?
    public var componentUsages: [ComponentUsage]?

    enum CodingKeys: String, CodingKey {
        case users, offerings, resources
        case timeZone = "time_zone"
        case legacyMode = "legacy_mode"
        case offeringUsers = "offering_users"
        case componentUsages = "component_usages"
    }

    public init(timeZone: String? = nil, legacyMode: Bool? = nil, users: [User], offerings: [Offering],
                resources: [Resource], offeringUsers: [OfferingUser]? = nil, componentUsages: [ComponentUsage]? = nil) {
        self.timeZone = timeZone
        self.legacyMode = legacyMode
        self.users = users
        self.offerings = offerings
        self.resources = resources
        self.offeringUsers = offeringUsers
        self.componentUsages = componentUsages
    }

    /// Decodes a seed from YAML text; the error names the offending key path.
    public init(yaml: String) throws {
        do {
            self = try YAMLDecoder().decode(SimulatorSeed.self, from: yaml)
        } catch let error as DecodingError {
            throw SimulatorError.invalidSeed(SimulatorError.describe(error))
        } catch {
            throw SimulatorError.invalidSeed("\(error)")
        }
    }

    /// Reads and decodes a seed file.
    public init(contentsOf path: String) throws {
        let text: String
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw SimulatorError.invalidSeed("cannot read seed file \(path): it is a directory")
        }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SimulatorError.invalidSeed("cannot read seed file \(path): \(error.localizedDescription)")
        }
        try self.init(yaml: text)
    }

    /// Checks that the seed is consistent (UUIDs, references, states, billing types, amounts);
    /// the error names the offending field and value.
    public func validate() throws {
        let catalog = try SimCatalog(seed: self)
        _ = try SimUsageStore(seed: self, catalog: catalog, now: Date())
    }
}
