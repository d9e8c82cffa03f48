import Foundation

/// `POST /api/marketplace-component-usages/set_usage/` (reference §9): validation in Waldur's
/// order, then the permission check, then an upsert per (resource, component, billing month).
extension SimWorld {
    private struct UsageItem {
        var type: String
        var amount: SimDecimal
        var description: String
        var recurring: Bool
        var missingUsagePolicy: String
    }

    mutating func setUsage(_ request: SimRequest, user: SimCatalog.User) -> SimResponse {
        let body: JSONValue
        switch SimWorld.readBody(request) {
        case .failed(let response): return response
        case .value(let value): body = value
        }
        guard body.isObject else {
            return .fieldError("non_field_errors", SimFieldValidation.expectedDictionary(body))
        }

        // Field validation: every field's errors are reported together, in serializer order.
        var errors: [(String, JSONValue)] = []
        var items: [UsageItem] = []
        switch body["usages"] {
        case nil:
            errors.append(("usages", .array([.string(SimFieldValidation.required)])))
        case .null?:
            errors.append(("usages", .array([.string(SimFieldValidation.notNull)])))
        case .array(let list)?:
            var itemErrors: [JSONValue] = []
            var anyError = false
            for element in list {
                guard element.isObject else {
                    anyError = true
                    itemErrors.append(.object([("non_field_errors", .array([.string(SimFieldValidation.expectedDictionary(element))]))]))
                    continue
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
                let type = note("type", SimFieldValidation.string(element["type"]))
                let amount = note("amount", SimFieldValidation.decimal(element["amount"], isRequired: true))
                let description = note("description", SimFieldValidation.string(element["description"], allowBlank: true, isRequired: false))
                let recurring = note("recurring", SimFieldValidation.boolean(element["recurring"], default: false))
                let policy = note("missing_usage_policy",
                                  SimFieldValidation.choice(element["missing_usage_policy"], ["none", "reuse", "zero"], default: "none"))
                if fieldErrors.isEmpty, let type = type ?? nil, let amount = amount ?? nil, let recurring, let policy {
                    items.append(UsageItem(type: type, amount: amount, description: (description ?? nil) ?? "",
                                           recurring: recurring, missingUsagePolicy: recurring ? "reuse" : policy))
                    itemErrors.append(.object([]))
                } else {
                    anyError = true
                    itemErrors.append(.object(fieldErrors))
                }
            }
            if anyError { errors.append(("usages", .array(itemErrors))) }
        case let other?:
            errors.append(("usages", .array([.string("Expected a list of items but got type \"\(other.pythonTypeName)\".")])))
        }

        var planPeriodGiven = false
        if let planPeriod = body["plan_period"], planPeriod != .null {
            planPeriodGiven = true
            // The simulator has no plan periods: any value names an unknown one.
            let shown = planPeriod.stringValue ?? planPeriod.serialized()
            errors.append(("plan_period", .array([.string("Object with uuid=\(shown) does not exist.")])))
        }

        var resource: SimCatalog.Resource?
        var resourceGiven = false
        if let value = body["resource"], value != .null {
            resourceGiven = true
            let shown = value.stringValue ?? value.serialized()
            if let text = value.stringValue, let id = SimUUID.normalize(text), let found = catalog.resource(id) {
                if ["OK", "Updating", "Terminating"].contains(found.state) {
                    resource = found
                } else {
                    errors.append(("resource", .array([.string("Resource is not in valid state.")])))
                }
            } else {
                errors.append(("resource", .array([.string("Object with uuid=\(shown) does not exist.")])))
            }
        }

        var date: Date?
        if !catalog.legacyMode {
            switch SimFieldValidation.dateTime(body["date"], zone: timeZone) {
            case .success(let value): date = value
            case .failure(let message): errors.append(("date", .array([.string(message.text)])))
            }
        }
        if !errors.isEmpty { return .json(400, .object(errors)) }

        // Object validation.
        guard resourceGiven || planPeriodGiven, let resource, let offering = catalog.offering(resource.offeringUUID) else {
            return .fieldError("non_field_errors", "Either plan_period or resource should be provided.")
        }
        let reportable = Set(offering.components.filter { ["usage", "limit", "one"].contains($0.billingType) }.map(\.type))
        let invalid = Set(items.map(\.type)).subtracting(reportable).sorted()
        if !invalid.isEmpty {
            return .fieldError("non_field_errors", "These components are invalid: \(invalid.joined(separator: ", ")).")
        }
        if !resource.hasPlan {
            return .fieldError("non_field_errors", "Resource must have a plan to report usage")
        }
        if let date, let message = dateRuleViolation(date: date, user: user, offering: offering, componentTypes: items.map(\.type)) {
            return .fieldError("date", message)
        }
        if catalog.legacyMode {
            for item in items {
                if let component = offering.component(item.type), component.billingType == "usage",
                   component.limitPeriod != nil, let limit = component.limitAmount,
                   item.amount.hundredths > Int128(limit) * 100 {
                    return .fieldError("non_field_errors", "Total amount exceeds limit. Total amount: \(item.amount), limit: \(limit).")
                }
            }
        }

        // Permission, checked after validation as Waldur does.
        guard catalog.canSetUsage(user, offering: offering) else {
            return .detail(403, "You do not have permission to perform this action.")
        }

        // Effect: one upsert per item; the last duplicate type wins.
        let stamp = date ?? now
        let period = SimDateTime.billingPeriod(of: stamp, in: timeZone)
        var current: [String: SimDecimal] = [:]
        for item in items {
            let fresh = SimUsageStore.ComponentUsage(
                uuid: SimUUID.random(), resourceUUID: resource.uuid, type: item.type, billingPeriod: period,
                usage: .zero, date: stamp, created: now, description: "", recurring: false,
                missingUsagePolicy: "none", modifiedBy: user.id)
            let index = upsertComponentUsage(resource: resource.uuid, type: item.type, period: period, creating: fresh)
            store.updateComponentUsage(at: index) { usage in
                usage.usage = item.amount
                usage.date = stamp
                usage.description = item.description
                usage.recurring = item.recurring
                usage.missingUsagePolicy = item.missingUsagePolicy
                usage.modifiedBy = user.id
            }
            current[item.type] = item.amount
        }
        store.currentUsages[resource.uuid] = current
        return .created
    }
}
