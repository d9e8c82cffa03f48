/// The endpoints the simulator serves, matched from a request path.
///
/// The template (`/api/marketplace-component-usages/{uuid}/set_user_usage/`) names the endpoint
/// in request counts without the identifiers.
enum SimRoute: Sendable, Equatable {
    case me
    case providerOffering(String)
    case providerResources
    case providerResource(String)
    case offeringUsers
    case offeringUser(String)
    case componentUsages
    case componentUsage(String)
    case setUsage
    case setUserUsage(String)
    case setUserUsages(String)
    case componentUserUsages
    case componentUserUsage(String)
    case adminUsages
    case adminRequests
    case adminFaults
    case adminClock

    var template: String {
        switch self {
        case .me: "/api/users/me/"
        case .providerOffering: "/api/marketplace-provider-offerings/{uuid}/"
        case .providerResources: "/api/marketplace-provider-resources/"
        case .providerResource: "/api/marketplace-provider-resources/{uuid}/"
        case .offeringUsers: "/api/marketplace-offering-users/"
        case .offeringUser: "/api/marketplace-offering-users/{uuid}/"
        case .componentUsages: "/api/marketplace-component-usages/"
        case .componentUsage: "/api/marketplace-component-usages/{uuid}/"
        case .setUsage: "/api/marketplace-component-usages/set_usage/"
        case .setUserUsage: "/api/marketplace-component-usages/{uuid}/set_user_usage/"
        case .setUserUsages: "/api/marketplace-component-usages/{uuid}/set_user_usages/"
        case .componentUserUsages: "/api/marketplace-component-user-usages/"
        case .componentUserUsage: "/api/marketplace-component-user-usages/{uuid}/"
        case .adminUsages: "/_sim/usages"
        case .adminRequests: "/_sim/requests"
        case .adminFaults: "/_sim/faults"
        case .adminClock: "/_sim/clock"
        }
    }

    /// Methods the endpoint accepts (HEAD goes with GET).
    var allowedMethods: [String] {
        switch self {
        case .setUsage, .setUserUsage, .setUserUsages: ["POST", "OPTIONS"]
        case .adminUsages, .adminRequests: ["GET"]
        case .adminFaults, .adminClock: ["GET", "POST"]
        default: ["GET", "HEAD", "OPTIONS"]
        }
    }

    var isAdmin: Bool {
        switch self {
        case .adminUsages, .adminRequests, .adminFaults, .adminClock: true
        default: false
        }
    }

    /// Matches a path; nil when no endpoint has it (Django's HTML 404). In legacy mode the bulk
    /// `set_user_usages` endpoint does not exist.
    static func match(path: String, legacyMode: Bool) -> SimRoute? {
        switch path {
        case "/_sim/usages": return .adminUsages
        case "/_sim/requests": return .adminRequests
        case "/_sim/faults": return .adminFaults
        case "/_sim/clock": return .adminClock
        default: break
        }
        guard path.hasPrefix("/api/"), path.hasSuffix("/") else { return nil }
        let segments = path.dropFirst(5).dropLast().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch segments.count {
        case 1:
            switch segments[0] {
            case "marketplace-provider-resources": return .providerResources
            case "marketplace-offering-users": return .offeringUsers
            case "marketplace-component-usages": return .componentUsages
            case "marketplace-component-user-usages": return .componentUserUsages
            default: return nil
            }
        case 2:
            let id = segments[1]
            guard !id.isEmpty else { return nil }
            switch segments[0] {
            case "users": return id == "me" ? .me : nil
            case "marketplace-provider-offerings": return .providerOffering(id)
            case "marketplace-provider-resources": return .providerResource(id)
            case "marketplace-offering-users": return .offeringUser(id)
            case "marketplace-component-usages": return id == "set_usage" ? .setUsage : .componentUsage(id)
            case "marketplace-component-user-usages": return .componentUserUsage(id)
            default: return nil
            }
        case 3 where segments[0] == "marketplace-component-usages" && !segments[1].isEmpty:
            switch segments[2] {
            case "set_user_usage": return .setUserUsage(segments[1])
            case "set_user_usages": return legacyMode ? nil : .setUserUsages(segments[1])
            default: return nil
            }
        default:
            return nil
        }
    }
}
