import Foundation
import Logging

/// The simulator's single source of truth: routes each request, counts it, injects faults,
/// authenticates, runs the handler on the world, and persists the usages after each change.
///
/// It is an actor so that every request sees and changes the world atomically.
actor SimulatorCore {
    private var world: SimWorld
    private var injector: FaultInjector
    private var counter = RequestCounter()
    private var fixedNow: Date?
    private let statePath: String?
    private let logger: Logger
    /// The zone's name as given (Foundation on Linux names UTC "GMT").
    private let timeZoneName: String

    init(catalog: SimCatalog, store: SimUsageStore, timeZone: TimeZone, timeZoneName: String? = nil, faults: SimulatorFaults,
         statePath: String?, logger: Logger) {
        self.world = SimWorld(catalog: catalog, store: store, timeZone: timeZone, now: Date())
        self.timeZoneName = timeZoneName ?? timeZone.identifier
        self.injector = FaultInjector(faults: faults)
        self.statePath = statePath
        self.logger = logger
    }

    var now: Date { fixedNow ?? Date() }

    var legacyMode: Bool { world.catalog.legacyMode }

    /// What to do with a request before it is handled.
    struct Admission: Sendable {
        var route: SimRoute?
        var template: String
        var latencyMilliseconds: Int
        var fault: FaultInjector.Decision
    }

    /// Counts the request and decides its fault (admin endpoints never get faults).
    func admit(_ request: SimRequest) -> Admission {
        let route = SimRoute.match(path: request.path, legacyMode: world.catalog.legacyMode)
        let template = route?.template ?? request.path
        counter.received(method: request.method, template: template)
        guard route?.isAdmin != true, request.path.hasPrefix("/api/") else {
            return Admission(route: route, template: template, latencyMilliseconds: 0, fault: .none)
        }
        counter.sawUserAgent(request.userAgent)
        let decided = injector.decide(template: template)
        return Admission(route: route, template: template, latencyMilliseconds: decided.latencyMilliseconds,
                         fault: decided.decision)
    }

    /// Records how a request was answered.
    func answered(_ request: SimRequest, template: String, response: SimResponse) {
        counter.answered(method: request.method, template: template,
                         outcome: response.dropConnection ? "dropped" : String(response.status))
    }

    /// Handles an admitted request that got no status fault.
    func handle(_ request: SimRequest, route: SimRoute?) -> SimResponse {
        guard let route else { return .noRoute(request.path) }
        if route.isAdmin { return admin(request, route: route) }

        world.now = now
        let user: SimCatalog.User
        switch SimAuth.authenticate(request.authorization, catalog: world.catalog) {
        case .rejected(let response): return response
        case .user(let found): user = found
        }
        guard route.allowedMethods.contains(request.method) else {
            return .detail(405, "Method \"\(request.method)\" not allowed.",
                           headers: [("Allow", route.allowedMethods.joined(separator: ", "))])
        }
        if request.method == "OPTIONS" {
            return .json(200, .object([("name", .string(route.template))]),
                         headers: [("Allow", route.allowedMethods.joined(separator: ", "))])
        }
        switch route {
        case .me: return world.me(request, user: user)
        case .providerOffering(let id): return world.providerOffering(request, user: user, id: id)
        case .providerResources: return list(request, user: user, route: route) { $0.providerResources(request, user: user) }
        case .providerResource(let id): return world.providerResource(request, user: user, id: id)
        case .offeringUsers: return list(request, user: user, route: route) { $0.offeringUsers(request, user: user) }
        case .offeringUser(let id): return world.offeringUser(request, user: user, id: id)
        case .componentUsages: return list(request, user: user, route: route) { $0.componentUsages(request, user: user) }
        case .componentUsage(let id): return world.componentUsage(request, user: user, id: id)
        case .componentUserUsages: return list(request, user: user, route: route) { $0.componentUserUsages(request, user: user) }
        case .componentUserUsage(let id): return world.componentUserUsage(request, user: user, id: id)
        case .setUsage: return write { $0.setUsage(request, user: user) }
        case .setUserUsage(let id): return write { $0.setUserUsages(request, user: user, id: id, bulk: false) }
        case .setUserUsages(let id): return write { $0.setUserUsages(request, user: user, id: id, bulk: true) }
        case .adminUsages, .adminRequests, .adminFaults, .adminClock: return admin(request, route: route)
        }
    }

    /// The last list answered, before paging, by what selects it: a client paging through a long
    /// list asks for the same list again with only `page` changed, and gets it without filtering,
    /// sorting or rendering it again. Cleared before every write (and by the clock), so it never
    /// serves data older than the world, and the write changes the world's storage in place.
    private var listCache: (key: [String], list: SimList)?

    private func list(_ request: SimRequest, user: SimCatalog.User, route: SimRoute, _ make: (SimWorld) -> SimListing) -> SimResponse {
        let key = [route.template, String(user.id), request.baseURL]
            + request.query.filter { $0.name != "page" }.flatMap { [$0.name, $0.value] }
        if let cached = listCache, cached.key == key {
            return SimPagination.respond(request, path: route.template, list: cached.list)
        }
        listCache = nil
        switch make(world) {
        case .failed(let response):
            return response
        case .list(let list):
            listCache = (key, list)
            return SimPagination.respond(request, path: route.template, list: list)
        }
    }

    /// Runs a write on the world and persists the result after a successful (2xx) write: a
    /// refused write changes nothing (every handler validates before it changes anything).
    private func write(_ body: (inout SimWorld) -> SimResponse) -> SimResponse {
        listCache = nil
        let response = body(&world)
        if (200..<300).contains(response.status), let statePath {
            do {
                try SimStateFile.save(world.store, to: statePath)
            } catch {
                logger.error("cannot persist simulator state", metadata: ["error": "\(error)"])
            }
        }
        return response
    }

    // MARK: - In-process control (the same operations as the admin endpoints)

    func setFaults(_ faults: SimulatorFaults) throws {
        try faults.validate()
        injector.replace(with: faults)
    }

    func setNow(_ date: Date?) {
        fixedNow = date
        listCache = nil
    }

    func requestCounts() -> [String: Int] {
        counter.counts
    }

    func userAgents() -> [String: Int] {
        counter.userAgents
    }

    // MARK: - Admin endpoints

    private func admin(_ request: SimRequest, route: SimRoute) -> SimResponse {
        guard request.peerIsLoopback else {
            return .detail(403, "Simulator admin endpoints only accept loopback peers.")
        }
        guard route.allowedMethods.contains(request.method) else {
            return .detail(405, "Method \"\(request.method)\" not allowed.",
                           headers: [("Allow", route.allowedMethods.joined(separator: ", "))])
        }
        switch route {
        case .adminUsages:
            return .json(200, usagesJSON())
        case .adminRequests:
            return .json(200, counter.json)
        case .adminFaults:
            if request.method == "POST" {
                do {
                    injector.replace(with: try SimulatorFaults(json: request.body))
                } catch {
                    return .detail(400, "\(error)")
                }
            }
            return .json(200, faultsJSON())
        case .adminClock:
            if request.method == "POST" {
                listCache = nil
                guard let body = JSONValue.parse(request.body), body.isObject else {
                    return .detail(400, "clock: expected a JSON object such as {\"now\": \"2026-08-01T00:10:00+03:00\"}")
                }
                if let value = body["now"] {
                    switch value {
                    case .null:
                        fixedNow = nil
                    case .string(let text):
                        guard let date = SimDateTime.parse(text, naiveZone: world.timeZone) else {
                            return .detail(400, "clock: now \"\(text)\" is not an ISO-8601 datetime")
                        }
                        fixedNow = date
                    default:
                        return .detail(400, "clock: now must be a string or null")
                    }
                }
                if let value = body["advance_seconds"] {
                    let seconds: Double
                    switch value {
                    case .int(let number): seconds = Double(number)
                    case .double(let number): seconds = number
                    default: return .detail(400, "clock: advance_seconds must be a number")
                    }
                    fixedNow = now.addingTimeInterval(seconds)
                }
            }
            return .json(200, .object([
                ("now", .string(SimDateTime.render(now))),
                ("fixed", .bool(fixedNow != nil)),
                ("time_zone", .string(timeZoneName)),
            ]))
        default:
            return .noRoute(request.path)
        }
    }

    private func faultsJSON() -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(injector.faults), let value = JSONValue.parse(Array(data)) else {
            return .object([])
        }
        return value
    }

    /// Every stored component usage and user usage, in a stable order.
    func usagesJSON() -> JSONValue {
        let usages = world.store.componentUsages.sorted {
            ($0.resourceUUID, $0.billingPeriod.description, $0.type) < ($1.resourceUUID, $1.billingPeriod.description, $1.type)
        }
        let rows = world.store.userUsages.sorted { lhs, rhs in
            (lhs.componentUsageUUID, lhs.username) < (rhs.componentUsageUUID, rhs.username)
        }
        return .object([
            ("component_usages", .array(usages.map { usage in
                .object([
                    ("uuid", .string(usage.uuid)),
                    ("resource_uuid", .string(usage.resourceUUID)),
                    ("type", .string(usage.type)),
                    ("billing_period", .string(usage.billingPeriod.description)),
                    ("usage", .string(usage.usage.description)),
                    ("date", .string(SimDateTime.render(usage.date))),
                    ("created", .string(SimDateTime.render(usage.created))),
                    ("description", .string(usage.description)),
                    ("recurring", .bool(usage.recurring)),
                    ("missing_usage_policy", .string(usage.missingUsagePolicy)),
                    ("modified_by", usage.modifiedBy.map { .int(Int64($0)) } ?? .null),
                ])
            })),
            ("user_usages", .array(rows.map { row in
                let parent = world.store.componentUsage(uuid: row.componentUsageUUID)
                return .object([
                    ("uuid", .string(row.uuid)),
                    ("component_usage_uuid", .string(row.componentUsageUUID)),
                    ("resource_uuid", parent.map { .string($0.resourceUUID) } ?? .null),
                    ("type", parent.map { .string($0.type) } ?? .null),
                    ("billing_period", parent.map { .string($0.billingPeriod.description) } ?? .null),
                    ("username", .string(row.username)),
                    ("usage", .string(row.usage.description)),
                    ("offering_user_uuid", row.offeringUserUUID.map(JSONValue.string) ?? .null),
                    ("created", .string(SimDateTime.render(row.created))),
                    ("modified", .string(SimDateTime.render(row.modified))),
                ])
            })),
        ])
    }
}
