import ReckonCore
import Testing

/// The decision as a pure function: hand-built desired values and states, expected plans by hand.
@Suite struct ReconcileDecisionTests {
    let o = "off"
    let m = BillingMonth(year: 2026, month: 11)!
    let r1 = "r1", r2 = "r2"

    func a(_ s: String) -> WaldurAmount { WaldurAmount(parsing: s)! }
    func t(_ r: String, _ c: String, _ u: String? = nil) -> UsageTarget { UsageTarget(resource: r, month: m, component: c, user: u) }

    func state(_ confirmed: [UsageTarget: WaldurAmount], cu: [UsageTarget: String] = [:]) -> ReconcileState {
        var s = ReconcileState()
        var d = OfferingDirectory()
        d.resources[r1] = DirectoryResource(uuid: r1, backendID: "a1", state: "OK", name: "a1")
        d.resources[r2] = DirectoryResource(uuid: r2, backendID: "a2", state: "OK", name: "a2")
        d.users["alice"] = "https://w/api/marketplace-offering-users/1/"
        s.directories[o] = d
        s.confirmed = confirmed
        s.componentUsages = cu
        return s
    }

    func desired(_ v: [UsageTarget: WaldurAmount]) -> [BillingMonth: DesiredUsage] {
        var d = DesiredUsage()
        d.values = v
        return [m: d]
    }

    @Test func onlyDifferingKeysAreWrittenAsAbsoluteTotalsGroupedPerResourceMonth() {
        let s = state([t(r1, "cpu"): a("10.00"), t(r1, "mem"): a("5.00"), t(r2, "cpu"): a("1.00")])
        let p = ReconcileDecision.plan(offering: o, desired: desired([t(r1, "cpu"): a("12.50"), t(r1, "mem"): a("5.00"), t(r2, "cpu"): a("1.00"),
                                                                       t(r2, "mem"): a("0.00")]), state: s)
        #expect(p.agreed == 3)   // r1 mem, r2 cpu, and r2 mem (0.00 desired, nothing stored)
        #expect(p.totalWrites.count == 1)
        #expect(p.totalWrites.first?.items == [SubmissionIntent.Item(target: t(r1, "cpu"), amount: a("12.50"), basedOn: a("10.00"))])
    }

    @Test func usersWithoutUsageNowAreSetToZeroUnderTheirComponentUsage() {
        let s = state([t(r1, "cpu"): a("3.00"), t(r1, "cpu", "alice"): a("2.00"), t(r1, "cpu", "bob"): a("1.00")], cu: [t(r1, "cpu"): "cu1"])
        let p = ReconcileDecision.plan(offering: o, desired: desired([t(r1, "cpu"): a("3.00"), t(r1, "cpu", "alice"): a("3.00")]), state: s)
        #expect(p.totalWrites.isEmpty)
        #expect(p.userWrites.count == 1)
        let w = p.userWrites[0]
        #expect(w.kind == .userUsages(componentUsage: "cu1"))
        #expect(w.items.map(\.target.user) == ["alice", "bob"])
        #expect(w.items.map(\.amount) == [a("3.00"), .zero])
        #expect(w.items[0].userURL == "https://w/api/marketplace-offering-users/1/")
        #expect(w.items[1].isDecrease)
    }

    /// Many keys, most of them agreeing: the writes hold the differing keys in target order
    /// (only those are sorted), the count of agreeing keys is exact, and deferred user values
    /// keep their items. Expected values are built from the inputs, key by key.
    @Test func largePlanIsOrderedAndCountsAgreeingKeys() {
        var confirmed: [UsageTarget: WaldurAmount] = [:], want: [UsageTarget: WaldurAmount] = [:]
        var expectedR1: [UsageTarget] = [], expectedAgreed = 0
        for i in 0..<400 {
            let target = t(i % 2 == 0 ? r1 : r2, "c" + String(String(1000 + i).dropFirst()))
            want[target] = a("\(i).00")
            if i % 7 == 0 {
                confirmed[target] = a("\(i + 1).00")
                if i % 2 == 0 { expectedR1.append(target) }
            } else {
                confirmed[target] = a("\(i).00")
                expectedAgreed += 1
            }
        }
        let users = (0..<30).map { t(r1, "c000", "user" + String(String(100 + 29 - $0).dropFirst())) }
        for u in users { want[u] = a("1.00") }
        let p = ReconcileDecision.plan(offering: o, desired: desired(want), state: state(confirmed))
        #expect(p.agreed == expectedAgreed)
        let w1 = p.totalWrites.first { $0.resource == r1 }
        #expect(w1?.items.map(\.target) == expectedR1.sorted())
        #expect(p.totalWrites.map(\.resource) == [r1, r2])
        // c000 of r1 is written in this plan, so its users wait, in target order, with their items.
        #expect(p.deferredUsers == users.sorted())
        #expect(p.deferredUserItems.map(\.target) == users.sorted())
        #expect(p.deferredUserItems.allSatisfy { $0.amount == a("1.00") && $0.basedOn == nil })
    }

    @Test func userValuesWaitForTheirTotalToExist() {
        let p = ReconcileDecision.plan(offering: o, desired: desired([t(r1, "cpu"): a("3.00"), t(r1, "cpu", "alice"): a("3.00")]), state: state([:]))
        #expect(p.totalWrites.count == 1)
        #expect(p.userWrites.isEmpty)
        #expect(p.deferredUsers == [t(r1, "cpu", "alice")])
    }

    @Test func decreasesAreSentOrHeld() {
        let s = state([t(r1, "cpu"): a("10.00")])
        let want = desired([t(r1, "cpu"): a("7.25")])
        #expect(ReconcileDecision.plan(offering: o, desired: want, state: s).totalWrites.first?.items.first?.isDecrease == true)
        let held = ReconcileDecision.plan(offering: o, desired: want, state: s, options: .init(holdDecreases: true))
        #expect(held.totalWrites.isEmpty)
        #expect(held.held.map(\.desired) == [a("7.25")])
        #expect(ReconcileDecision.plan(offering: o, desired: want, state: s, options: .init(holdDecreases: true, releaseHeld: true)).totalWrites.count == 1)
    }

    @Test func pendingIntentsAndStaffRefusalsWait() {
        var s = state([:])
        s.openIntents[7] = SubmissionIntent(offering: o, kind: .totals, resource: r1, month: m, date: 0,
                                            items: [.init(target: t(r1, "cpu"), amount: a("1.00"), basedOn: nil)], configFingerprint: "")
        s.needsStaff[ResourceMonth(resource: r2, month: m)] = 3
        let want = desired([t(r1, "cpu"): a("2.00"), t(r2, "cpu"): a("4.00")])
        let p = ReconcileDecision.plan(offering: o, desired: want, state: s)
        #expect(p.isEmpty)
        #expect(p.pending == [t(r1, "cpu")])
        #expect(p.waitingForStaff == [ResourceMonth(resource: r2, month: m)])
        let staff = ReconcileDecision.plan(offering: o, desired: want, state: s, options: .init(staff: true))
        #expect(staff.totalWrites.map(\.resource) == [r2])
    }

    @Test func theStateFoldsTheProtocolEvents() {
        var s = ReconcileState()
        let item = SubmissionIntent.Item(target: t(r1, "cpu"), amount: a("2.00"), basedOn: nil)
        let intent = SubmissionIntent(offering: o, kind: .totals, resource: r1, month: m, date: 0, items: [item], configFingerprint: "f")
        s.apply(StoredEvent(sequence: 10, event: .submissionIntended(intent)))
        #expect(s.pendingTargets == [t(r1, "cpu")])
        s.apply(StoredEvent(sequence: 11, event: .submissionOutcome(SubmissionOutcome(intent: 10, result: .ambiguous(message: "timeout")))))
        #expect(s.openIntents[10] != nil)        // ambiguous: still open until read back
        s.apply(StoredEvent(sequence: 12, event: .submissionConfirmed(SubmissionConfirmation(intent: 10, observed: [ObservedValue(target: t(r1, "cpu"), amount: a("2.00"), componentUsage: "cu")], agreed: true))))
        #expect(s.openIntents.isEmpty)
        #expect(s.confirmed[t(r1, "cpu")] == a("2.00"))
        #expect(s.componentUsages[t(r1, "cpu")] == "cu")
        s.apply(StoredEvent(sequence: 13, event: .submissionIntended(intent)))
        s.apply(StoredEvent(sequence: 14, event: .submissionOutcome(SubmissionOutcome(intent: 13, result: .needsStaff(message: "backfilling past billing periods")))))
        #expect(s.openIntents.isEmpty)
        #expect(s.needsStaff[ResourceMonth(resource: r1, month: m)] == 13)
    }

    @Test func desiredUsageMatchesAccountsCaseInsensitivelyAndSkipsWhatCannotTakeUsage() {
        var d = OfferingDirectory()
        d.resources["u1"] = DirectoryResource(uuid: "u1", backendID: "HPC_A", state: "OK", name: "")
        d.resources["u2"] = DirectoryResource(uuid: "u2", backendID: "hpc_b", state: "Erred", name: "")
        d.resources["u3"] = DirectoryResource(uuid: "u3", backendID: "dup", state: "OK", name: "")
        d.resources["u4"] = DirectoryResource(uuid: "u4", backendID: "DUP", state: "OK", name: "")
        let cpu = Component(name: "cpu", unitFactor: ExactDecimal(parsing: "60")!)
        // 7200 CPU-s / (60 × 60) = 2.00 CPU-hours
        let native: [UsageKey: Int128] = [UsageKey(month: m, account: "hpc_a", user: "alice", tres: "cpu"): 7_200,
                                          UsageKey(month: m, account: "hpc_b", user: "bob", tres: "cpu"): 100,
                                          UsageKey(month: m, account: "ghost", user: "x", tres: "cpu"): 1]
        let want = DesiredUsage.compute(directory: d, month: m, native: native, components: [cpu])
        #expect(want.values[UsageTarget(resource: "u1", month: m, component: "cpu")] == a("2.00"))
        #expect(want.values[UsageTarget(resource: "u1", month: m, component: "cpu", user: "alice")] == a("2.00"))
        #expect(want.values.keys.allSatisfy { $0.resource == "u1" })
        #expect(want.skipped.count == 2)     // Erred, and two resources for one account
        #expect(want.unmatchedAccounts == ["ghost"])
    }
}
