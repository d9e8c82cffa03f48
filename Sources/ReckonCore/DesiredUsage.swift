/// What Waldur *should* hold for one offering and billing month: per resource (matched to its
/// SLURM account case-insensitively) and component the total, and per user their share, each
/// converted from exact native usage and rounded once, on its own.
public struct DesiredUsage: Sendable, Equatable {
    public var values: [UsageTarget: WaldurAmount] = [:]
    /// Resources that cannot be reported, with the reason (recorded in plans and logs).
    public var skipped: [String] = []
    /// SLURM accounts with usage that no resource of the offering names.
    public var unmatchedAccounts: [String] = []

    public init() {}

    /// - Parameters:
    ///   - native: native usage of `month` (keys of other months are ignored).
    ///   - components: the offering's components reckon reports (configured and known to Waldur).
    public static func compute(directory: OfferingDirectory, month: BillingMonth, native: [UsageKey: Int128],
                               components: [Component]) -> DesiredUsage {
        var out = DesiredUsage()
        var byAccount: [String: [String: [String: Int128]]] = [:]   // account → user → tres → native
        for (k, v) in native where k.month == month {
            byAccount[k.account, default: [:]][k.user, default: [:]][k.tres, default: 0] += v
        }
        let resources = directory.resourcesByAccount
        for (account, rs) in resources.sorted(by: { $0.key < $1.key }) {
            guard rs.count == 1, let r = rs.first else {
                out.skipped.append("backend_id \(account) names \(rs.count) resources (\(rs.map(\.uuid).joined(separator: ", "))); none is reported")
                continue
            }
            guard r.acceptsUsage else {
                out.skipped.append("resource \(r.uuid) (\(account)) is in state \(r.state), which cannot take usage")
                continue
            }
            let users = byAccount[account] ?? [:]
            for c in components {
                var total: Int128 = 0
                for (_, tres) in users { total += tres[c.name] ?? 0 }
                if let a = c.amount(fromNativeSeconds: total) {
                    out.values[UsageTarget(resource: r.uuid, month: month, component: c.name)] = a
                }
                for (user, tres) in users {
                    guard let n = tres[c.name], n != 0, let a = c.amount(fromNativeSeconds: n) else { continue }
                    out.values[UsageTarget(resource: r.uuid, month: month, component: c.name, user: user)] = a
                }
            }
        }
        out.unmatchedAccounts = byAccount.keys.filter { resources[$0] == nil }.sorted()
        return out
    }
}
