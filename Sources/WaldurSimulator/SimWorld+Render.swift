import Foundation

/// Renders stored objects the way Waldur's serializers do: hex UUIDs, decimal strings with two
/// places, `YYYY-MM-DD` billing periods, `Z` datetimes and absolute URLs.
extension SimWorld {
    static let loadTime = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01T00:00:00Z

    func renderUser(_ user: SimCatalog.User, base: String) -> JSONValue {
        .object([
            ("url", .string("\(base)/api/users/\(user.uuid)/")),
            ("uuid", .string(user.uuid)),
            ("username", .string(user.username)),
            ("full_name", .string(user.username)),
            ("email", .string("\(user.username)@example.org")),
            ("is_staff", .bool(user.isStaff)),
            ("is_support", .bool(user.isSupport)),
            ("is_active", .bool(true)),
        ])
    }

    func renderComponent(_ component: SimCatalog.Component) -> JSONValue {
        .object([
            ("billing_type", .string(component.billingType)),
            ("type", .string(component.type)),
            ("name", .string(component.name)),
            ("description", .string("")),
            ("measured_unit", .string(component.measuredUnit)),
            ("unit_factor", .int(Int64(component.unitFactor))),
            ("limit_period", component.limitPeriod.map(JSONValue.string) ?? .null),
            ("limit_amount", component.limitAmount.map { .int(Int64($0)) } ?? .null),
            ("is_boolean", .bool(false)),
            ("is_prepaid", .bool(component.billingType == "one")),
        ])
    }

    func renderOffering(_ offering: SimCatalog.Offering, base: String) -> JSONValue {
        .object([
            ("url", .string("\(base)/api/marketplace-provider-offerings/\(offering.uuid)/")),
            ("uuid", .string(offering.uuid)),
            ("name", .string(offering.name)),
            ("customer_uuid", .string(offering.customerUUID)),
            ("type", .string("Marketplace.Slurm")),
            ("state", .string("Active")),
            ("components", .array(offering.components.map(renderComponent))),
        ])
    }

    func renderResource(_ resource: SimCatalog.Resource, base: String) -> JSONValue {
        let offering = catalog.offering(resource.offeringUUID)
        let current = store.currentUsages[resource.uuid] ?? [:]
        return .object([
            ("uuid", .string(resource.uuid)),
            ("url", .string("\(base)/api/marketplace-provider-resources/\(resource.uuid)/")),
            ("name", .string(resource.name)),
            ("slug", .string(resource.slug)),
            ("backend_id", .string(resource.backendID)),
            ("effective_id", .string("")),
            ("state", .string(resource.state)),
            ("offering_uuid", .string(resource.offeringUUID)),
            ("offering_name", .string(offering?.name ?? "")),
            ("offering_type", .string("Marketplace.Slurm")),
            ("project_uuid", .string(resource.projectUUID)),
            ("project_name", .string(resource.projectName)),
            ("customer_uuid", .string(resource.customerUUID)),
            ("customer_name", .string(resource.customerName)),
            ("limits", .object([])),
            ("current_usages", .object(current.keys.sorted().map { ($0, .string(current[$0]?.description ?? "0.00")) })),
            ("offering_components", .array(offering?.components.map(renderComponent) ?? [])),
            ("end_date", .null),
            ("created", .string(SimDateTime.render(SimWorld.loadTime))),
        ])
    }

    func renderOfferingUser(_ offeringUser: SimCatalog.OfferingUser, base: String) -> JSONValue {
        let offering = catalog.offering(offeringUser.offeringUUID)
        return .object([
            ("url", .string("\(base)/api/marketplace-offering-users/\(offeringUser.uuid)/")),
            ("uuid", .string(offeringUser.uuid)),
            ("user", .string("\(base)/api/users/\(offeringUser.userUUID)/")),
            ("offering", .string("\(base)/api/marketplace-provider-offerings/\(offeringUser.offeringUUID)/")),
            ("username", offeringUser.username.map(JSONValue.string) ?? .null),
            ("offering_uuid", .string(offeringUser.offeringUUID)),
            ("offering_name", .string(offering?.name ?? "")),
            ("user_uuid", .string(offeringUser.userUUID)),
            ("user_username", .string(offeringUser.userUsername)),
            ("user_full_name", .string(offeringUser.userUsername)),
            ("created", .string(SimDateTime.render(SimWorld.loadTime))),
            ("modified", .string(SimDateTime.render(SimWorld.loadTime))),
            ("customer_uuid", .string(offering?.customerUUID ?? "")),
            ("is_restricted", .bool(offeringUser.isRestricted)),
            ("state", .string(offeringUser.state)),
        ])
    }

    func renderComponentUsage(_ usage: SimUsageStore.ComponentUsage) -> JSONValue {
        let resource = catalog.resource(usage.resourceUUID)
        let offering = resource.flatMap { catalog.offering($0.offeringUUID) }
        let component = offering?.component(usage.type)
        var pairs: [(String, JSONValue)] = [
            ("uuid", .string(usage.uuid)),
            ("created", .string(SimDateTime.render(usage.created))),
            ("description", .string(usage.description)),
            ("type", .string(usage.type)),
            ("name", .string(component?.name ?? usage.type)),
            ("measured_unit", .string(component?.measuredUnit ?? "")),
            ("usage", .string(usage.usage.description)),
            ("date", .string(SimDateTime.render(usage.date))),
            ("recurring", .bool(usage.recurring)),
        ]
        if !catalog.legacyMode { pairs.append(("missing_usage_policy", .string(usage.missingUsagePolicy))) }
        pairs += [
            ("resource_name", .string(resource?.name ?? "")),
            ("resource_uuid", .string(usage.resourceUUID)),
            ("offering_name", .string(offering?.name ?? "")),
            ("offering_uuid", .string(offering?.uuid ?? "")),
            ("project_name", .string(resource?.projectName ?? "")),
            ("project_uuid", .string(resource?.projectUUID ?? "")),
            ("customer_name", .string(resource?.customerName ?? "")),
            ("customer_uuid", .string(resource?.customerUUID ?? "")),
            ("billing_period", .string(usage.billingPeriod.description)),
            ("modified_by", usage.modifiedBy.map { .int(Int64($0)) } ?? .null),
        ]
        return .object(pairs)
    }

    func renderUserUsage(_ row: SimUsageStore.UserUsage, base: String) -> JSONValue {
        let parent = store.componentUsage(uuid: row.componentUsageUUID)
        let resource = parent.flatMap { catalog.resource($0.resourceUUID) }
        let offering = resource.flatMap { catalog.offering($0.offeringUUID) }
        let component = parent.flatMap { offering?.component($0.type) }
        var pairs: [(String, JSONValue)] = [
            ("uuid", .string(row.uuid)),
            ("user", row.offeringUserUUID.map { .string("\(base)/api/marketplace-offering-users/\($0)/") } ?? .null),
            ("username", .string(row.username)),
            ("component_usage", .string("\(base)/api/marketplace-component-usages/\(row.componentUsageUUID)/")),
            ("usage", .string(row.usage.description)),
            ("measured_unit", .string(component?.measuredUnit ?? "")),
            ("description", .string("")),
            ("created", .string(SimDateTime.render(row.created))),
            ("modified", .string(SimDateTime.render(row.modified))),
            ("backend_id", .string("")),
            ("resource_name", .string(resource?.name ?? "")),
            ("resource_uuid", .string(resource?.uuid ?? "")),
            ("offering_name", .string(offering?.name ?? "")),
            ("offering_uuid", .string(offering?.uuid ?? "")),
            ("project_name", .string(resource?.projectName ?? "")),
            ("project_uuid", .string(resource?.projectUUID ?? "")),
            ("customer_name", .string(resource?.customerName ?? "")),
            ("customer_uuid", .string(resource?.customerUUID ?? "")),
            ("component_type", .string(parent?.type ?? "")),
            ("date", parent.map { .string(SimDateTime.render($0.date)) } ?? .null),
        ]
        if !catalog.legacyMode {
            pairs.append(("billing_period", parent.map { .string($0.billingPeriod.description) } ?? .null))
        }
        return .object(pairs)
    }
}
