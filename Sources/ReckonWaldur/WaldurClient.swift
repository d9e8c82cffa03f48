import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// The Waldur Mastermind marketplace client used to report SLURM usage.
///
/// It wraps the handful of endpoints a usage reporter needs, with Waldur's quirks handled once:
/// token authentication, Link-header pagination checked against `X-Result-Count`, decimal-string
/// amounts, explicit-offset dates, typed errors, bounded retries of transient failures, and the
/// fallback from the bulk `set_user_usages` to the singular `set_user_usage` on older servers.
///
/// Methods throw `WaldurError`, or `CancellationError` when the calling task is cancelled.
/// Call `shutdown()` once when done.
public final class WaldurClient: Sendable {
    public let endpoint: WaldurEndpoint
    private let transport: WaldurTransport
    private let logger: Logger
    /// nil until known; false once the server answered the bulk path with 404/405 and the
    /// singular form worked.
    private let bulkUserUsagesSupported = Mutex<Bool?>(nil)

    /// Creates a client. `observer` sees every HTTP attempt (method, path template, status,
    /// attempt number, duration), never headers or bodies.
    public init(endpoint: WaldurEndpoint, logger: Logger = Logger(label: "reckon.waldur"),
                observer: WaldurAttemptObserver? = nil) {
        self.endpoint = endpoint
        self.logger = logger
        self.transport = WaldurTransport(endpoint: endpoint, logger: logger, observer: observer)
    }

    /// Releases the HTTP connections. The client must not be used afterwards.
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    // MARK: - Reads

    /// `GET /api/users/me/`: who the token belongs to, and whether it is staff.
    public func me() async throws -> WaldurCurrentUser {
        let response = try await transport.send(
            WaldurRequest(method: .GET, path: "/api/users/me/", pathTemplate: "/api/users/me/"))
        return try decode(WaldurCurrentUser.self, from: response.body, what: "/api/users/me/")
    }

    /// `GET /api/marketplace-provider-offerings/{uuid}/`: the offering's customer and components.
    public func offering(_ uuid: WaldurUUID) async throws -> WaldurOffering {
        var request = WaldurRequest(
            method: .GET, path: "/api/marketplace-provider-offerings/\(uuid.hex)/",
            pathTemplate: "/api/marketplace-provider-offerings/{uuid}/")
        request.query.add("field", ["uuid", "customer_uuid", "components"])
        let response = try await transport.send(request)
        return try decode(WaldurOffering.self, from: response.body, what: request.pathTemplate)
    }

    /// `GET /api/marketplace-provider-resources/?offering_uuid=…&state=…`, every page.
    /// An empty `states` lists resources in every state.
    public func providerResources(offeringUUID: WaldurUUID, states: [WaldurResourceState] = [])
        async throws -> [WaldurProviderResource]
    {
        var query = WaldurQuery()
        query.add("offering_uuid", offeringUUID.hex)
        query.add("state", states.map(\.rawValue))
        query.add("field", ["uuid", "backend_id", "state", "name", "offering_uuid", "project_uuid"])
        return try await list(path: "/api/marketplace-provider-resources/", query: query)
    }

    /// `GET /api/marketplace-offering-users/?offering_uuid=…`, every page.
    ///
    /// Non-staff tokens see nothing unless the offering lets service providers manage offering
    /// users (reference trap T19); an empty answer is not an error.
    public func offeringUsers(offeringUUID: WaldurUUID, isRestricted: Bool? = nil) async throws
        -> [WaldurOfferingUser]
    {
        var query = WaldurQuery()
        query.add("offering_uuid", offeringUUID.hex)
        if let isRestricted { query.add("is_restricted", isRestricted ? "true" : "false") }
        query.add("field", ["uuid", "url", "username", "user_username", "state", "is_restricted"])
        return try await list(path: "/api/marketplace-offering-users/", query: query)
    }

    /// `GET /api/marketplace-component-usages/?resource_uuid|offering_uuid=…&billing_period=YYYY-MM-01`.
    public func componentUsages(_ scope: WaldurUsageScope, billingPeriod: WaldurBillingPeriod) async throws
        -> [WaldurComponentUsage]
    {
        var query = WaldurQuery()
        query.add(scope.queryItem.name, scope.queryItem.value)
        query.add("billing_period", billingPeriod.firstDay)
        query.add("field", ["uuid", "type", "usage", "billing_period", "resource_uuid", "date"])
        return try await list(path: "/api/marketplace-component-usages/", query: query)
    }

    /// `GET /api/marketplace-component-user-usages/?…&component_usage__billing_period=YYYY-MM-01`
    /// (the filter name differs from the one of component usages).
    public func componentUserUsages(_ scope: WaldurUsageScope, billingPeriod: WaldurBillingPeriod) async throws
        -> [WaldurComponentUserUsage]
    {
        var query = WaldurQuery()
        query.add(scope.queryItem.name, scope.queryItem.value)
        query.add("component_usage__billing_period", billingPeriod.firstDay)
        query.add("field", ["uuid", "username", "usage", "component_usage", "component_type", "resource_uuid",
                            "billing_period", "user"])
        return try await list(path: "/api/marketplace-component-user-usages/", query: query)
    }

    // MARK: - Writes

    /// `POST /api/marketplace-component-usages/set_usage/`: overwrite the month-to-date totals of
    /// the listed components of a resource. Components left out are untouched.
    ///
    /// - Parameters:
    ///   - date: Which instant (and so which billing month, in the server's time zone) the usage
    ///     belongs to; sent with an explicit offset. nil means "now" on the server. A past month
    ///     needs a staff token for usage-billed components (`WaldurError.backfillRefused`).
    /// - Throws: `WaldurError.invalidRequest` for a negative amount, an empty or duplicate type.
    public func setUsage(resourceUUID: WaldurUUID, usages: [WaldurUsageItem], date: Date? = nil) async throws {
        var seen = Set<String>()
        for item in usages {
            guard !item.type.isEmpty else { throw WaldurError.invalidRequest("usage item with an empty component type") }
            guard seen.insert(item.type).inserted else {
                throw WaldurError.invalidRequest("component type \"\(item.type)\" appears twice in one set_usage call")
            }
            guard item.amount >= .zero else {
                throw WaldurError.invalidRequest("negative amount \(item.amount) for component \"\(item.type)\"")
            }
        }
        let body = SetUsageBody(
            resource: resourceUUID.hex, date: date.map(WaldurDateFormat.string(from:)),
            usages: usages.map {
                SetUsageBody.Item(type: $0.type, amount: $0.amount.description, description: $0.description, recurring: false)
            })
        try await post(path: "/api/marketplace-component-usages/set_usage/",
                       template: "/api/marketplace-component-usages/set_usage/", body: body)
    }

    /// `POST /api/marketplace-component-usages/{uuid}/set_user_usage/`: overwrite one user's usage
    /// under a component usage record (its uuid, not the resource's).
    public func setUserUsage(componentUsageUUID: WaldurUUID, usage: WaldurUserUsageItem, date: Date? = nil)
        async throws
    {
        try validate(usage)
        try await post(
            path: "/api/marketplace-component-usages/\(componentUsageUUID.hex)/set_user_usage/",
            template: "/api/marketplace-component-usages/{uuid}/set_user_usage/",
            body: UserUsageBody(item: usage, date: date))
    }

    /// `POST /api/marketplace-component-usages/{uuid}/set_user_usages/`: overwrite several users'
    /// usages atomically. When the server lacks the bulk endpoint (404/405 on it while the singular
    /// form works), falls back to one `set_user_usage` per user — no longer atomic — and remembers it.
    @discardableResult
    public func setUserUsages(componentUsageUUID: WaldurUUID, usages: [WaldurUserUsageItem], date: Date? = nil)
        async throws -> WaldurUserUsageMode
    {
        guard !usages.isEmpty else { return .nothingToSend }
        var names = Set<String>()
        for item in usages {
            try validate(item)
            guard names.insert(item.username).inserted else {
                throw WaldurError.invalidRequest("username \"\(item.username)\" appears twice in one set_user_usages call")
            }
        }
        let known = bulkUserUsagesSupported.withLock { $0 }
        if known == false {
            try await sendSingly(componentUsageUUID: componentUsageUUID, usages: usages[...], date: date)
            return .singular
        }
        do {
            try await post(
                path: "/api/marketplace-component-usages/\(componentUsageUUID.hex)/set_user_usages/",
                template: "/api/marketplace-component-usages/{uuid}/set_user_usages/",
                body: BulkUserUsageBody(usages: usages.map { UserUsageBody(item: $0, date: date) }))
            bulkUserUsagesSupported.withLock { $0 = true }
            return .bulk
        } catch let error as WaldurError where known == nil && Self.looksLikeMissingEndpoint(error) {
            logger.info(
                "Waldur has no set_user_usages endpoint (\(error.status.map(String.init) ?? "?")); trying set_user_usage")
            // If the parent record is really unknown, the singular call fails with the same 404.
            try await setUserUsage(componentUsageUUID: componentUsageUUID, usage: usages[0], date: date)
            bulkUserUsagesSupported.withLock { $0 = false }
            try await sendSingly(componentUsageUUID: componentUsageUUID, usages: usages.dropFirst(), date: date)
            return .singular
        }
    }

    // MARK: - Internals

    private static func looksLikeMissingEndpoint(_ error: WaldurError) -> Bool {
        switch error {
        case .notFound: true
        case .unexpectedStatus(405, _): true
        default: false
        }
    }

    private func sendSingly(componentUsageUUID: WaldurUUID, usages: ArraySlice<WaldurUserUsageItem>, date: Date?)
        async throws
    {
        for item in usages {
            try await setUserUsage(componentUsageUUID: componentUsageUUID, usage: item, date: date)
        }
    }

    private func validate(_ item: WaldurUserUsageItem) throws {
        guard (1...100).contains(item.username.count) else {
            throw WaldurError.invalidRequest("username \"\(item.username)\" must have 1 to 100 characters")
        }
        guard item.usage >= .zero else {
            throw WaldurError.invalidRequest("negative usage \(item.usage) for user \"\(item.username)\"")
        }
    }

    private func post(path: String, template: String, body: some Encodable) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(body)
        } catch {
            throw WaldurError.invalidRequest("cannot encode \(template) body: \(error)")
        }
        _ = try await transport.send(
            WaldurRequest(method: .POST, path: path, pathTemplate: template, jsonBody: Array(data)))
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw WaldurError.invalidResponse("\(what): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \(path(context)).\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "field \(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Fetches every page of a list endpoint: `page_size` from the endpoint (≤ 100), follows
    /// `Link: rel="next"` (taking only its page number, not its host), and checks that the number
    /// of items equals `X-Result-Count`. A mismatch (records added or removed while paging) lists
    /// again once, then fails with `invalidResponse`.
    private func list<T: Decodable>(path: String, query: WaldurQuery) async throws -> [T] {
        var base = query
        base.add("page_size", String(endpoint.pageSize))
        var lastProblem = ""
        for pass in 1...2 {
            var items: [T] = []
            var page = 1
            var expected: Int?
            var pages = 0
            var consistent = true
            while true {
                var request = WaldurRequest(method: .GET, path: path, pathTemplate: path)
                request.query = base.with(page: page)
                let response = try await transport.send(request)
                guard let countText = response.headers.first(name: "X-Result-Count"),
                      let count = Int(countText.trimmingCharacters(in: .whitespaces)), count >= 0
                else {
                    throw WaldurError.invalidResponse(
                        "\(path) page \(page): missing or invalid X-Result-Count \"\(response.headers.first(name: "X-Result-Count") ?? "")\"")
                }
                if let expected, expected != count {
                    consistent = false
                    lastProblem = "X-Result-Count changed from \(expected) to \(count) while paging"
                    break
                }
                expected = count
                let decoded = try decode([T].self, from: response.body, what: "\(path) page \(page)")
                items.append(contentsOf: decoded)
                pages += 1
                let link = response.headers[canonicalForm: "Link"].joined(separator: ", ")
                guard let next = WaldurLinkHeader.url(rel: "next", in: link) else { break }
                guard let nextPage = WaldurLinkHeader.pageNumber(in: next), nextPage > page else {
                    throw WaldurError.invalidResponse("\(path) page \(page): rel=\"next\" link \"\(next)\" has no later page")
                }
                guard pages <= count / endpoint.pageSize + 1 else {
                    throw WaldurError.invalidResponse("\(path): more pages than X-Result-Count \(count) allows")
                }
                page = nextPage
            }
            if consistent, let expected {
                if items.count == expected { return items }
                lastProblem = "listed \(items.count) items but X-Result-Count is \(expected)"
            }
            if pass == 1 {
                logger.warning("Waldur list changed while paging; listing again",
                               metadata: ["waldur.path": "\(path)", "waldur.problem": "\(lastProblem)"])
            }
        }
        throw WaldurError.invalidResponse("\(path): \(lastProblem)")
    }
}

/// Body of `set_usage`.
private struct SetUsageBody: Encodable {
    struct Item: Encodable {
        let type: String
        let amount: String
        let description: String?
        let recurring: Bool
    }
    let resource: String
    let date: String?
    let usages: [Item]
}

/// Body of `set_user_usage` and one item of `set_user_usages`.
private struct UserUsageBody: Encodable {
    let username: String
    let usage: String
    let user: String?
    let date: String?

    init(item: WaldurUserUsageItem, date: Date?) {
        username = item.username
        usage = item.usage.description
        user = item.offeringUserURL
        self.date = date.map(WaldurDateFormat.string(from:))
    }
}

/// Body of `set_user_usages`.
private struct BulkUserUsageBody: Encodable {
    let usages: [UserUsageBody]
}
