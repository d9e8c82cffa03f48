import Foundation

/// Everything one request can see and change: the catalog, the stored usages, the server's time
/// zone and "now". Handlers are synchronous mutations of a world, so a request is atomic (a
/// failed request leaves the world as it was).
struct SimWorld: Sendable {
    var catalog: SimCatalog
    var store: SimUsageStore
    var timeZone: TimeZone
    /// The simulator's clock at the time of the request.
    var now: Date

    /// How a write body was read.
    enum Body {
        case value(JSONValue)
        case failed(SimResponse)
    }

    /// Reads a request body as DRF does with Waldur's parsers: JSON when the content type says so,
    /// an empty form (so every field is missing) without a content type or for form posts, and
    /// 415 for any other media type.
    static func readBody(_ request: SimRequest) -> Body {
        let contentType = (request.contentType ?? "").split(separator: ";").first
            .map { $0.trimmingWhitespace().lowercased() } ?? ""
        switch contentType {
        case "application/json":
            if request.body.isEmpty { return .value(.object([])) }
            guard let value = JSONValue.parse(request.body) else {
                return .failed(.detail(400, "JSON parse error - Expecting value: line 1 column 1 (char 0)"))
            }
            return .value(value)
        case "", "application/x-www-form-urlencoded", "multipart/form-data":
            return .value(.object([]))
        default:
            return .failed(.detail(415, "Unsupported media type \"\(request.contentType ?? "")\" in request."))
        }
    }

    /// The date rules for usage writes (reference §2.3, §9 step 5); nil when allowed.
    func dateRuleViolation(date: Date, user: SimCatalog.User, offering: SimCatalog.Offering,
                           componentTypes: [String]) -> String? {
        if date > now { return "Cannot submit usage for future dates" }
        let period = SimDateTime.billingPeriod(of: date, in: timeZone)
        let current = SimDateTime.billingPeriod(of: now, in: timeZone)
        guard period < current, !user.isStaff else { return nil }
        if user.serviceProviderFor.contains(offering.customerUUID) {
            let allPrepaidOrLimit = componentTypes.allSatisfy { type in
                guard let billing = offering.component(type)?.billingType else { return false }
                return billing == "limit" || billing == "one"
            }
            return allPrepaidOrLimit
                ? nil
                : "Service providers can only specify date for limit-based or prepaid billing components when backfilling past billing periods"
        }
        return "Only staff users and service providers can specify date for backfilling"
    }

    /// Upserts the component usage for (resource, type, month) and returns its index.
    mutating func upsertComponentUsage(resource: String, type: String, period: SimBillingPeriod,
                                       creating record: SimUsageStore.ComponentUsage) -> Int {
        if let index = store.componentUsageIndex(resource: resource, type: type, period: period) { return index }
        return store.append(record)
    }
}
