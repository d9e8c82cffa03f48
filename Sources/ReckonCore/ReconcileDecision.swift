/// The reconcile decision: desired values against the last *confirmed* Waldur values, as a plan
/// of the fewest writes that make them agree. Pure: no clock, no I/O; unit-tested without HTTP.
///
/// Rules: every write carries the key's new absolute total (Waldur overwrites); only keys that
/// differ are written; totals are grouped into one `set_usage` per resource-month, user values
/// into one `set_user_usages` per ComponentUsage; users Waldur holds a value for but who have no
/// usage now are set to zero; decreases are sent (or held when asked); a key with an unsettled
/// intent waits for its read-back; a past resource-month refused for want of a staff token
/// waits for `reckon backfill`.
public enum ReconcileDecision {
    public struct Options: Sendable {
        public var holdDecreases = false
        public var releaseHeld = false
        /// Backfill with a staff token: past months refused earlier are tried again.
        public var staff = false
        /// Consider per-user values (false: totals only).
        public var includeUsers = true
        public init(holdDecreases: Bool = false, releaseHeld: Bool = false, staff: Bool = false, includeUsers: Bool = true) {
            self.holdDecreases = holdDecreases
            self.releaseHeld = releaseHeld
            self.staff = staff
            self.includeUsers = includeUsers
        }
    }

    /// One write the plan wants: its kind and items (targets with new totals and their basis).
    public struct Write: Hashable, Sendable {
        public init(resource: String, month: BillingMonth, kind: SubmissionIntent.Kind, items: [SubmissionIntent.Item]) {
            self.resource = resource
            self.month = month
            self.kind = kind
            self.items = items
        }

        public var resource: String
        public var month: BillingMonth
        public var kind: SubmissionIntent.Kind
        public var items: [SubmissionIntent.Item]
    }

    public struct Plan: Sendable, Equatable {
        public var totalWrites: [Write] = []
        public var userWrites: [Write] = []
        public var held: [HeldDecrease] = []
        public var waitingForStaff: [ResourceMonth] = []
        public var pending: [UsageTarget] = []
        /// User values whose ComponentUsage is not known yet (written after the totals).
        public var deferredUsers: [UsageTarget] = []
        /// The same values as items (target, desired amount, confirmed basis), for `plan --json`.
        public var deferredUserItems: [SubmissionIntent.Item] = []
        public var agreed = 0
        public var skipped: [String] = []

        public init() {}

        public var isEmpty: Bool { totalWrites.isEmpty && userWrites.isEmpty }
        public var writeCount: Int { totalWrites.count + userWrites.count }
    }

    public static func plan(offering: String, desired: [BillingMonth: DesiredUsage], state: ReconcileState,
                            options: Options = Options()) -> Plan {
        var plan = Plan()
        let directory = state.directories[offering] ?? OfferingDirectory()
        let pending = state.pendingTargets
        var totals: [ResourceMonth: [SubmissionIntent.Item]] = [:]
        var users: [UsageTarget: [SubmissionIntent.Item]] = [:]
        for (month, want) in desired.sorted(by: { $0.key < $1.key }) {
            plan.skipped += want.skipped
            // Keys: every desired value, plus user values Waldur holds under a managed total.
            var keys = Set(want.values.keys.filter { options.includeUsers || $0.user == nil })
            for (t, _) in state.confirmed where options.includeUsers && t.month == month && t.user != nil && want.values[t.total] != nil {
                keys.insert(t)
            }
            // Only the keys that differ are sorted (for a stable plan): on an idle tick none do,
            // and sorting every key of a large month was most of an idle tick's decision.
            var differing: [UsageTarget] = []
            for target in keys {
                if (want.values[target] ?? .zero) == (state.confirmed[target] ?? .zero) { plan.agreed += 1 } else { differing.append(target) }
            }
            for target in differing.sorted() {
                let d = want.values[target] ?? .zero
                let c = state.confirmed[target]
                if pending.contains(target) { plan.pending.append(target); continue }
                let rm = target.resourceMonth
                if state.needsStaff[rm] != nil && !options.staff {
                    if !plan.waitingForStaff.contains(rm) { plan.waitingForStaff.append(rm) }
                    continue
                }
                if d < (c ?? .zero) && options.holdDecreases && !options.releaseHeld {
                    plan.held.append(HeldDecrease(offering: offering, target: target, confirmed: c ?? .zero, desired: d, cause: []))
                    continue
                }
                let item = SubmissionIntent.Item(target: target, amount: d, basedOn: c,
                                                 userURL: target.user.flatMap { directory.users[$0] })
                if target.user == nil { totals[rm, default: []].append(item) } else { users[target.total, default: []].append(item) }
            }
        }
        for (rm, items) in totals.sorted(by: { $0.key < $1.key }) {
            plan.totalWrites.append(Write(resource: rm.resource, month: rm.month, kind: .totals, items: items))
        }
        // Totals this plan writes (a set: a first sync has thousands of totals and of user groups).
        let totalsWritten = Set(plan.totalWrites.lazy.flatMap { $0.items.lazy.map(\.target) })
        for (total, items) in users.sorted(by: { $0.key < $1.key }) {
            // A ComponentUsage exists once its total is in Waldur; until then the user values wait.
            guard let cu = state.componentUsages[total], state.confirmed[total] != nil, !totalsWritten.contains(total)
            else {
                plan.deferredUsers += items.map(\.target)
                plan.deferredUserItems += items
                continue
            }
            plan.userWrites.append(Write(resource: total.resource, month: total.month, kind: .userUsages(componentUsage: cu), items: items))
        }
        return plan
    }
}
