import Foundation

/// The read endpoints: `users/me`, provider offerings, provider resources, offering users,
/// component usages and component user usages, with Waldur's filters and visibility rules.
extension SimWorld {
    func me(_ request: SimRequest, user: SimCatalog.User) -> SimResponse {
        SimPagination.detail(request, renderUser(user, base: request.baseURL))
    }

    func providerOffering(_ request: SimRequest, user: SimCatalog.User, id: String) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let offering = catalog.offering(uuid),
              catalog.providerCanSee(user, offering: offering)
        else { return .detail(404, "No Offering matches the given query.") }
        return SimPagination.detail(request, renderOffering(offering, base: request.baseURL))
    }

    private func visibleProviderResources(_ user: SimCatalog.User) -> [SimCatalog.Resource] {
        catalog.resources.filter { resource in
            catalog.offering(resource.offeringUUID).map { catalog.providerCanSee(user, offering: $0) } ?? false
        }
    }

    func providerResources(_ request: SimRequest, user: SimCatalog.User) -> SimListing {
        var filters = SimFilters(request)
        let offerings = filters.uuids("offering_uuid")
        let states = filters.choices("state", SimCatalog.resourceStates)
        let projects = filters.uuids("project_uuid")
        let customers = filters.uuids("customer_uuid")
        if let failure = filters.failure { return .failed(failure) }
        let backendID = filters.text("backend_id")
        let name = filters.text("name")?.lowercased()
        let nameExact = filters.text("name_exact")
        let items = visibleProviderResources(user).filter { resource in
            (offerings?.contains(resource.offeringUUID) ?? true)
                && (states?.contains(resource.state) ?? true)
                && (projects?.contains(resource.projectUUID) ?? true)
                && (customers?.contains(resource.customerUUID) ?? true)
                && (backendID.map { $0 == resource.backendID } ?? true)
                && (name.map { resource.name.lowercased().contains($0) } ?? true)
                && (nameExact.map { $0 == resource.name } ?? true)
        }
        let base = request.baseURL
        return .list(SimList(count: items.count) { range in items[range].map { renderResource($0, base: base) } })
    }

    func providerResource(_ request: SimRequest, user: SimCatalog.User, id: String) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let resource = visibleProviderResources(user).first(where: { $0.uuid == uuid })
        else { return .detail(404, "No Resource matches the given query.") }
        return SimPagination.detail(request, renderResource(resource, base: request.baseURL))
    }

    /// Non-staff callers only see offering users of offerings that let service providers manage
    /// them (reference trap T19).
    private func visibleOfferingUsers(_ user: SimCatalog.User) -> [SimCatalog.OfferingUser] {
        catalog.offeringUsers.filter { offeringUser in
            guard let offering = catalog.offering(offeringUser.offeringUUID) else { return false }
            if user.isStaff || user.isSupport { return true }
            return offering.serviceProviderCanCreateOfferingUser && user.serviceProviderFor.contains(offering.customerUUID)
        }
    }

    func offeringUsers(_ request: SimRequest, user: SimCatalog.User) -> SimListing {
        var filters = SimFilters(request)
        let offerings = filters.uuids("offering_uuid")
        let states = filters.choices("state", SimCatalog.offeringUserStates)
        let userUUIDs = filters.uuids("user_uuid")
        if let failure = filters.failure { return .failed(failure) }
        let userUsername = filters.text("user_username")?.lowercased()
        let isRestricted = filters.boolean("is_restricted")
        let items = visibleOfferingUsers(user).filter { offeringUser in
            (offerings?.contains(offeringUser.offeringUUID) ?? true)
                && (states?.contains(offeringUser.state) ?? true)
                && (userUUIDs?.contains(offeringUser.userUUID) ?? true)
                && (userUsername.map { $0 == offeringUser.userUsername.lowercased() } ?? true)
                && (isRestricted.map { $0 == offeringUser.isRestricted } ?? true)
        }
        let base = request.baseURL
        return .list(SimList(count: items.count) { range in items[range].map { renderOfferingUser($0, base: base) } })
    }

    func offeringUser(_ request: SimRequest, user: SimCatalog.User, id: String) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let found = visibleOfferingUsers(user).first(where: { $0.uuid == uuid })
        else { return .detail(404, "No OfferingUser matches the given query.") }
        return SimPagination.detail(request, renderOfferingUser(found, base: request.baseURL))
    }

    private func visibleComponentUsages(_ user: SimCatalog.User) -> [SimUsageStore.ComponentUsage] {
        store.componentUsages.filter { usage in
            catalog.resource(usage.resourceUUID).map { catalog.canSee(user, resource: $0) } ?? false
        }
    }

    func componentUsages(_ request: SimRequest, user: SimCatalog.User) -> SimListing {
        var filters = SimFilters(request)
        let resources = filters.uuids("resource_uuid")
        let offerings = filters.uuids("offering_uuid")
        let projects = filters.uuids("project_uuid")
        let customers = filters.uuids("customer_uuid")
        let billingPeriod = filters.date("billing_period")
        let year = filters.number("billing_period_year")
        let month = filters.number("billing_period_month")
        let after = filters.date("date_after")
        let before = filters.date("date_before")
        if let failure = filters.failure { return .failed(failure) }
        let type = filters.text("type")
        let items = visibleComponentUsages(user).filter { usage in
            let resource = catalog.resource(usage.resourceUUID)
            let day = SimDateTime.day(of: usage.date, in: timeZone)
            return (resources?.contains(usage.resourceUUID) ?? true)
                && (offerings.map { set in resource.map { set.contains($0.offeringUUID) } ?? false } ?? true)
                && (projects.map { set in resource.map { set.contains($0.projectUUID) } ?? false } ?? true)
                && (customers.map { set in resource.map { set.contains($0.customerUUID) } ?? false } ?? true)
                && (type.map { $0 == usage.type } ?? true)
                && (billingPeriod.map { $0 == usage.billingPeriod.description } ?? true)
                && (year.map { $0 == usage.billingPeriod.year } ?? true)
                && (month.map { $0 == usage.billingPeriod.month } ?? true)
                && (after.map { day >= $0 } ?? true)
                && (before.map { day <= $0 } ?? true)
        }.sorted { lhs, rhs in
            if lhs.date != rhs.date { return lhs.date > rhs.date }
            if lhs.type != rhs.type { return lhs.type < rhs.type }
            return lhs.uuid < rhs.uuid
        }
        return .list(SimList(count: items.count) { range in items[range].map(renderComponentUsage) })
    }

    func componentUsage(_ request: SimRequest, user: SimCatalog.User, id: String) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let usage = visibleComponentUsages(user).first(where: { $0.uuid == uuid })
        else { return .detail(404, "No ComponentUsage matches the given query.") }
        return SimPagination.detail(request, renderComponentUsage(usage))
    }

    private func visibleUserUsages(_ user: SimCatalog.User) -> [SimUsageStore.UserUsage] {
        let visibleParents = Set(visibleComponentUsages(user).map(\.uuid))
        return store.userUsages.filter { visibleParents.contains($0.componentUsageUUID) }
    }

    func componentUserUsages(_ request: SimRequest, user: SimCatalog.User) -> SimListing {
        var filters = SimFilters(request)
        let resources = filters.uuids("resource_uuid")
        let offerings = filters.uuids("offering_uuid")
        let billingPeriod = filters.date("component_usage__billing_period")
        let year = filters.number("billing_period_year")
        let month = filters.number("billing_period_month")
        if let failure = filters.failure { return .failed(failure) }
        let type = filters.text("type")
        let username = filters.text("username")?.lowercased()
        let rows = visibleUserUsages(user).compactMap { row -> (SimUsageStore.UserUsage, SimUsageStore.ComponentUsage)? in
            store.componentUsage(uuid: row.componentUsageUUID).map { (row, $0) }
        }.filter { row, parent in
            let resource = catalog.resource(parent.resourceUUID)
            return (resources?.contains(parent.resourceUUID) ?? true)
                && (offerings.map { set in resource.map { set.contains($0.offeringUUID) } ?? false } ?? true)
                && (billingPeriod.map { $0 == parent.billingPeriod.description } ?? true)
                && (year.map { $0 == parent.billingPeriod.year } ?? true)
                && (month.map { $0 == parent.billingPeriod.month } ?? true)
                && (type.map { $0 == parent.type } ?? true)
                && (username.map { row.username.lowercased().contains($0) } ?? true)
        }.sorted { lhs, rhs in
            if lhs.1.billingPeriod != rhs.1.billingPeriod { return lhs.1.billingPeriod > rhs.1.billingPeriod }
            if lhs.1.type != rhs.1.type { return lhs.1.type < rhs.1.type }
            if lhs.0.username != rhs.0.username { return lhs.0.username < rhs.0.username }
            return lhs.0.uuid < rhs.0.uuid
        }
        let base = request.baseURL
        return .list(SimList(count: rows.count) { range in rows[range].map { renderUserUsage($0.0, base: base) } })
    }

    func componentUserUsage(_ request: SimRequest, user: SimCatalog.User, id: String) -> SimResponse {
        guard let uuid = SimUUID.normalize(id), let row = visibleUserUsages(user).first(where: { $0.uuid == uuid })
        else { return .detail(404, "No ComponentUserUsage matches the given query.") }
        return SimPagination.detail(request, renderUserUsage(row, base: request.baseURL))
    }
}
