import Foundation

/// `POST /api/marketplace-component-usages/{uuid}/set_user_usage/` and the bulk, atomic
/// `set_user_usages/` (reference §9): 404 → 403 → 400, then upserts keyed by (parent, username),
/// with the parent's month (or the month of `date`) and the zero-total rule.
extension SimWorld {
    private struct UserItem {
        var username: String
        var usage: SimDecimal?
        var offeringUserUUID: String?
        var date: Date?
    }

    mutating func setUserUsages(_ request: SimRequest, user: SimCatalog.User, id: String, bulk: Bool) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let parent = store.componentUsage(uuid: uuid),
              let resource = catalog.resource(parent.resourceUUID), catalog.canSee(user, resource: resource),
              let offering = catalog.offering(resource.offeringUUID)
        else {
            return .detail(404, "No ComponentUsage matches the given query.")
        }
        guard catalog.canSetUsage(user, offering: offering) else {
            return .detail(403, "You do not have permission to perform this action.")
        }
        let body: JSONValue
        switch SimWorld.readBody(request) {
        case .failed(let response): return response
        case .value(let value): body = value
        }
        guard body.isObject else {
            return .fieldError("non_field_errors", SimFieldValidation.expectedDictionary(body))
        }

        var items: [UserItem] = []
        if bulk {
            switch body["usages"] {
            case nil: return .fieldError("usages", SimFieldValidation.required)
            case .null?: return .fieldError("usages", SimFieldValidation.notNull)
            case .array(let list)?:
                if list.isEmpty { return .fieldError("usages", "This list may not be empty.") }
                var itemErrors: [JSONValue] = []
                var anyError = false
                for element in list {
                    switch validateUserItem(element, request: request, user: user, offering: offering, parent: parent) {
                    case .success(let item):
                        items.append(item)
                        itemErrors.append(.object([]))
                    case .failure(let failure):
                        anyError = true
                        itemErrors.append(failure.errors)
                    }
                }
                if anyError { return .json(400, .object([("usages", .array(itemErrors))])) }
            case let other?:
                return .fieldError("usages", "Expected a list of items but got type \"\(other.pythonTypeName)\".")
            }
        } else {
            switch validateUserItem(body, request: request, user: user, offering: offering, parent: parent) {
            case .success(let item): items = [item]
            case .failure(let failure): return .json(400, failure.errors)
            }
        }

        // The one failure left after validation is S1's: the singular form updating an existing
        // row without `usage` raises KeyError (reference trap T14). It is decided before anything
        // changes, so a failing request leaves nothing behind.
        if !bulk, let item = items.first, item.usage == nil {
            var targetUUID: String? = parent.uuid
            if let date = item.date {
                let period = SimDateTime.billingPeriod(of: date, in: timeZone)
                if period != parent.billingPeriod {
                    targetUUID = store.componentUsageIndex(resource: resource.uuid, type: parent.type, period: period)
                        .map { store.componentUsages[$0].uuid }
                }
            }
            if let targetUUID, store.userUsageIndex(parent: targetUUID, username: item.username) != nil {
                return SimResponse(status: 500, headers: [("Content-Type", "text/html; charset=utf-8")],
                                   body: Array("<h1>Server Error (500)</h1>".utf8))
            }
        }
        var zeroParents: Set<String> = []
        for item in items {
            var parentIndex = store.componentUsageIndex(uuid: parent.uuid) ?? 0
            if let date = item.date {
                let period = SimDateTime.billingPeriod(of: date, in: timeZone)
                if period != parent.billingPeriod {
                    let fresh = SimUsageStore.ComponentUsage(
                        uuid: SimUUID.random(), resourceUUID: resource.uuid, type: parent.type, billingPeriod: period,
                        usage: .zero, date: date, created: now, description: "", recurring: false,
                        missingUsagePolicy: "none", modifiedBy: user.id)
                    parentIndex = upsertComponentUsage(resource: resource.uuid, type: parent.type, period: period, creating: fresh)
                }
            }
            let target = store.componentUsages[parentIndex]
            if target.usage == .zero { zeroParents.insert(target.uuid) }
            if let rowIndex = store.userUsageIndex(parent: target.uuid, username: item.username) {
                let usage = item.usage ?? .zero   // bulk items without `usage` count as 0; singular ones were refused above
                store.updateUserUsage(at: rowIndex) { row in
                    row.usage = usage
                    row.modified = now
                }
            } else {
                _ = store.append(SimUsageStore.UserUsage(
                    uuid: SimUUID.random(), componentUsageUUID: target.uuid, username: item.username,
                    usage: item.usage ?? .zero, offeringUserUUID: item.offeringUserUUID, created: now, modified: now))
            }
        }
        for parentUUID in zeroParents {
            guard let index = store.componentUsageIndex(uuid: parentUUID) else { continue }
            let total = store.userUsages(of: parentUUID).reduce(SimDecimal.zero) { $0 + $1.usage }
            store.updateComponentUsage(at: index) { $0.usage = total }
        }
        return .created
    }

    private struct ItemFailure: Error {
        var errors: JSONValue
    }

    private func validateUserItem(_ element: JSONValue, request: SimRequest, user: SimCatalog.User,
                                  offering: SimCatalog.Offering, parent: SimUsageStore.ComponentUsage)
        -> Result<UserItem, ItemFailure>
    {
        guard element.isObject else {
            return .failure(ItemFailure(errors: .object([
                ("non_field_errors", .array([.string(SimFieldValidation.expectedDictionary(element))])),
            ])))
        }
        var fieldErrors: [(String, JSONValue)] = []
        func note<T>(_ field: String, _ result: FieldResult<T>) -> T? {
            switch result {
            case .success(let value): return value
            case .failure(let message):
                fieldErrors.append((field, .array([.string(message.text)])))
                return nil
            }
        }
        let usage = note("usage", SimFieldValidation.decimal(element["usage"], isRequired: false))
        let username = note("username", SimFieldValidation.string(element["username"], maxLength: 100))
        var offeringUserUUID: String?
        if let link = element["user"], link != .null {
            switch link {
            case .string(let url):
                let path = URLComponents(string: url)?.path ?? url
                let segments = path.split(separator: "/").map(String.init)
                if segments.count == 3, segments[0] == "api", segments[1] == "marketplace-offering-users" {
                    if let id = SimUUID.normalize(segments[2]), catalog.offeringUser(id) != nil {
                        offeringUserUUID = id
                    } else {
                        fieldErrors.append(("user", .array([.string("Invalid hyperlink - Object does not exist.")])))
                    }
                } else {
                    fieldErrors.append(("user", .array([.string("Invalid hyperlink - No URL match.")])))
                }
            default:
                fieldErrors.append(("user", .array([.string("Incorrect type. Expected URL string, received \(link.pythonTypeName).")])))
            }
        }
        var date: Date?
        if !catalog.legacyMode {
            date = note("date", SimFieldValidation.dateTime(element["date"], zone: timeZone)) ?? nil
        }
        guard fieldErrors.isEmpty, let username = username ?? nil else {
            return .failure(ItemFailure(errors: .object(fieldErrors)))
        }
        if let date, let message = dateRuleViolation(date: date, user: user, offering: offering, componentTypes: [parent.type]) {
            return .failure(ItemFailure(errors: .object([("date", .array([.string(message)]))])))
        }
        return .success(UserItem(username: username, usage: usage ?? nil, offeringUserUUID: offeringUserUUID, date: date))
    }
}
