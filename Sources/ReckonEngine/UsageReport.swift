import Dispatch
import ReckonCore

/// Desired usage in Waldur units, as `reckon usage` shows it and the reconciler will send it:
/// per (resource, component) or per (resource, user, component), for a billing month or any
/// half-open window. Native sums are exact; each row is rounded once, on its own (a resource
/// total is not the sum of rounded user rows).
public struct UsageReport: Sendable {
    public enum Grouping: String, Sendable, CaseIterable { case resource, user }

    public struct Row: Sendable, Equatable {
        public var resource: String
        public var user: String?
        public var component: String
        public var period: String
        public var native: Int128
        public var amount: WaldurAmount
    }

    /// Every row, in order: per owner (resource, or resource and user), one per component.
    public var rows: Rows { Rows(storage: storage, period: period) }
    public var period: String
    /// Running runs counted up to these instants (per cluster).
    public var observedUntil: [String: EpochSeconds]
    let storage: Storage

    public init(rows: [Row], period: String, observedUntil: [String: EpochSeconds]) {
        storage = .rows(rows)
        self.period = period
        self.observedUntil = observedUntil
    }

    init(grid: Grid, period: String, observedUntil: [String: EpochSeconds]) {
        storage = .grid(grid)
        self.period = period
        self.observedUntil = observedUntil
    }

    /// How the rows are kept.
    enum Storage: Sendable {
        case rows([Row])
        /// Owners × components (``UsageQuery``'s month reports).
        case grid(Grid)
    }

    /// A report's rows kept as its owners, its component names, and each row's native sum and
    /// amount: row `i` is owner `i / components.count`, component `i % components.count`, in the
    /// report's period. A quarter by user of 200,000 jobs is ~90,000 rows: 8.7 MB as `Row`s
    /// (96 bytes each, every page of them a page fault when first written), ~3.3 MB so; and
    /// `reckon usage` measures an owner's names once, not once per component.
    struct Grid: Sendable {
        struct Owner: Sendable {
            var resource: String
            var user: String?
        }
        var owners: [Owner] = []
        var components: [String] = []
        var natives: [Int128] = []
        var amounts: [WaldurAmount] = []
    }

    /// The rows, each made when read (a grid's row from its owner, component and sums).
    public struct Rows: RandomAccessCollection, Sendable {
        let storage: Storage
        let period: String

        public var startIndex: Int { 0 }
        public var endIndex: Int {
            switch storage {
            case .rows(let rows): return rows.count
            case .grid(let grid): return grid.natives.count
            }
        }

        public subscript(i: Int) -> Row {
            switch storage {
            case .rows(let rows): return rows[i]
            case .grid(let grid):
                let owner = grid.owners[i / grid.components.count]
                return Row(resource: owner.resource, user: owner.user, component: grid.components[i % grid.components.count],
                           period: period, native: grid.natives[i], amount: grid.amounts[i])
            }
        }
    }
}

/// Computes ``UsageReport``s from a ledger.
public struct UsageQuery {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// Native usage of one month from the live projection: closed rows plus running runs up to
    /// their cluster's last observation.
    public func nativeUsage(month: BillingMonth) throws -> (usage: [UsageKey: Int128], observedUntil: [String: EpochSeconds]) {
        let settings = ledger.settings
        return try ledger.store.read { r in try Self.nativeUsage(month: month, in: r, settings: settings) }
    }

    /// ``nativeUsage(month:)`` in the caller's read snapshot.
    static func nativeUsage(month: BillingMonth, in r: any EventStoreReader, settings: ProjectionSettings) throws
        -> (usage: [UsageKey: Int128], observedUntil: [String: EpochSeconds]) {
        var out: [UsageKey: Int128] = [:]
        try UsageTable.forEachCell(r, prefix: UsageKey.monthPrefix(month), settings: settings) { k, amount in
            guard let key = UsageKey(bytes: k) else { throw EventStoreError.corrupt("undecodable usage row") }
            out[key, default: 0] += amount
        }
        let marks = try observationMarks(r)
        try forEachOpenRun(r) { run in
            UsageContribution.forEachMonth(of: run, observedUntil: marks[run.identity.cluster], settings: settings) { k, v in
                if k.month == month { out[k, default: 0] += v }
            }
        }
        return (out, marks)
    }

    /// ``monthReport(_:grouping:components:)`` for several months, all read in one snapshot (an
    /// import that commits meanwhile is in all of them or in none).
    public func monthReports(_ months: [BillingMonth], grouping: UsageReport.Grouping, components: [Component]?) throws -> [UsageReport] {
        let settings = ledger.settings
        if months.count > 1, let reports = try concurrentMonthReports(months, grouping: grouping, components: components) {
            return reports
        }
        return try ledger.store.read { r in
            // The running runs are read once for all the months (each is an event to decode).
            let (marks, running) = try Self.runningUsage(months, in: r, settings: settings)
            return try months.map {
                try Self.monthReport($0, in: r, settings: settings, grouping: grouping, components: components,
                                     marks: marks, running: running[$0] ?? [])
            }
        }
    }

    /// ``monthReports(_:grouping:components:)`` with the months shared between two threads,
    /// each reading in a snapshot of its own; nil (nothing to use) unless both snapshots are
    /// the same committed state — a commit in between, or a store that cannot tell, and the
    /// caller reads them all in one snapshot instead.
    func concurrentMonthReports(_ months: [BillingMonth], grouping: UsageReport.Grouping, components: [Component]?) throws -> [UsageReport]? {
        let settings = ledger.settings
        let store = ledger.store
        final class Part: @unchecked Sendable {   // written by one thread, read after the join
            var snapshots: [UInt64?] = []
            var marks: [String: EpochSeconds] = [:]
            var running: [BillingMonth: [(key: [UInt8], amount: Int128)]] = [:]
            var reports: [(Int, UsageReport)] = []
            var error: Error?
        }
        let parts = [Part(), Part()]
        /// Runs `body` on both threads, each in a read snapshot of its own (recorded; a store
        /// that cannot name it runs nothing), and throws the first error.
        func onBothThreads(_ body: @Sendable (Int, Part, any EventStoreReader) throws -> Void) throws {
            DispatchQueue.concurrentPerform(iterations: parts.count) { p in
                let part = parts[p]
                do {
                    try store.read { r in
                        part.snapshots.append(r.snapshotID)
                        guard r.snapshotID != nil else { return }
                        try body(p, part, r)
                    }
                } catch {
                    part.error = error
                }
            }
            for part in parts { if let e = part.error { throw e } }
        }
        // First the open runs' usage, each thread decoding every other open run (an event to
        // look up and decode each: ~2 µs, for every running job); then the months, each thread
        // its share with all the open runs' usage. Every read is in a snapshot of its own; the
        // result stands only if all of them are the same commit.
        try onBothThreads { p, part, r in
            (part.marks, part.running) = try Self.runningUsage(months, in: r, settings: settings, share: (p, parts.count))
        }
        var merged = parts[0].running
        for (month, cells) in parts[1].running { merged[month, default: []].append(contentsOf: cells) }
        let running = merged, marks = parts[0].marks
        try onBothThreads { p, part, r in
            for i in months.indices where i % parts.count == p {
                part.reports.append((i, try Self.monthReport(months[i], in: r, settings: settings, grouping: grouping,
                                                             components: components, marks: marks, running: running[months[i]] ?? [])))
            }
        }
        let snapshots = parts.flatMap(\.snapshots)
        guard let id = snapshots.first ?? nil, snapshots.allSatisfy({ $0 == id }) else { return nil }
        return parts.flatMap(\.reports).sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The report of one billing month — the same rows as ``report(_:period:grouping:components:observedUntil:)``
    /// of ``nativeUsage(month:)`` — built while the usage table is read in key order: cells of one
    /// owner are adjacent there, and owners come in the report's order, so there is no dictionary
    /// of keys to fill and no sort. Names that are not all ASCII, or hold a zero byte (the key's
    /// separator), take the dictionary path instead:
    /// there `String` equality merges canonically equivalent names (`e\u{301}` and `\u{e9}`) and
    /// invalid UTF-8 is repaired, which bytes would not do.
    public func monthReport(_ month: BillingMonth, grouping: UsageReport.Grouping, components: [Component]?) throws -> UsageReport {
        let settings = ledger.settings
        return try ledger.store.read { r in
            let (marks, running) = try Self.runningUsage([month], in: r, settings: settings)
            return try Self.monthReport(month, in: r, settings: settings, grouping: grouping, components: components,
                                        marks: marks, running: running[month] ?? [])
        }
    }

    /// The observation marks, and the usage of running runs up to their cluster's mark in each
    /// of `months`: (key bytes, TRES-seconds) of each run, month and TRES, a key possibly more
    /// than once (``UsageTable/forEachCellInKeyOrder(_:prefix:settings:adding:_:)`` adds them up).
    /// With `share` (part p of n), only every n-th open run from the p-th is read.
    static func runningUsage(_ months: [BillingMonth], in r: any EventStoreReader, settings: ProjectionSettings,
                             share: (part: Int, of: Int) = (0, 1)) throws
        -> (marks: [String: EpochSeconds], running: [BillingMonth: [(key: [UInt8], amount: Int128)]]) {
        let marks = try observationMarks(r)
        let wanted = Set(months)
        var running: [BillingMonth: [(key: [UInt8], amount: Int128)]] = [:]
        try forEachOpenRun(r, share: share) { run in
            UsageContribution.forEachMonth(of: run, observedUntil: marks[run.identity.cluster], settings: settings) { k, v in
                if wanted.contains(k.month) { running[k.month, default: []].append((k.bytes, v)) }
            }
        }
        return (marks, running)
    }

    /// ``monthReport(_:grouping:components:)`` in the caller's read snapshot, given what
    /// ``runningUsage(_:in:settings:)`` read there.
    static func monthReport(_ month: BillingMonth, in r: any EventStoreReader, settings: ProjectionSettings,
                            grouping: UsageReport.Grouping, components: [Component]?,
                            marks: [String: EpochSeconds], running: [(key: [UInt8], amount: Int128)]) throws -> UsageReport {
        let period = month.description
        /// The dictionary path: names that bytes cannot stand for.
        func byDictionary() throws -> UsageReport {
            let (native, marks) = try nativeUsage(month: month, in: r, settings: settings)
            return Self.report(native, period: period, grouping: grouping, components: components, observedUntil: marks)
        }
        guard components?.allSatisfy({ $0.name.utf8.allSatisfy { $0 < 0x80 } }) ?? true else { return try byDictionary() }
        // One pass over the cells in key order. An owner's cells are adjacent: each owner is
        // named once, and its cells are kept as (TRES slot, native sum) until the components
        // are known (without a config they are every TRES of the month).
        struct Owner { var resource: String; var user: String?; var cells: Range<Int> }
        var owners: [Owner] = []
        var ownerBytes: [UInt8] = []         // the current owner's part of the key
        var tresBytes: [UInt8] = []          // the TRES names by slot, as first seen, end to end
        var tresEnds: [Int] = []             // slot k is tresBytes[tresEnds[k - 1] ..< tresEnds[k]] (from 0 for k = 0)
        var lastSlot = -1                    // an owner's TRES come in the same order as the last owner's, nearly always
        var cellSlots: [Int] = []
        var cellSums: [Int128] = []
        var plain = true
        try UsageTable.forEachCellInKeyOrder(r, prefix: UsageKey.monthPrefix(month), settings: settings, adding: running) { k, v in
            guard plain else { return }
            var zeros: (Int, Int) = (-1, -1)
            for i in 4..<k.count {
                let b = k[i]
                if b >= 0x80 { plain = false; return }
                if b == 0 {
                    if zeros.0 < 0 { zeros.0 = i } else if zeros.1 < 0 { zeros.1 = i } else { plain = false; return }   // a name with a zero byte
                }
            }
            guard zeros.1 > 0 else { throw EventStoreError.corrupt("undecodable usage row") }
            let (accountEnd, userEnd) = zeros
            let part = UnsafeRawBufferPointer(rebasing: k[4..<(grouping == .user ? userEnd : accountEnd)])
            let sameOwner = !owners.isEmpty && ownerBytes.withUnsafeBytes { Self.bytesEqual($0, part) }
            if !sameOwner {
                if !owners.isEmpty { owners[owners.count - 1].cells = owners[owners.count - 1].cells.lowerBound..<cellSums.count }
                ownerBytes.removeAll(keepingCapacity: true)
                ownerBytes.append(contentsOf: part)
                owners.append(Owner(resource: String(decoding: k[4..<accountEnd], as: UTF8.self),
                                    user: grouping == .user ? String(decoding: k[(accountEnd + 1)..<userEnd], as: UTF8.self) : nil,
                                    cells: cellSums.count..<cellSums.count))
            }
            let tres = UnsafeRawBufferPointer(rebasing: k[(userEnd + 1)...])
            // The slot after the last one first, then every slot (a few at most); a new name last.
            var slot = -1
            tresBytes.withUnsafeBytes { names in
                tresEnds.withUnsafeBufferPointer { ends in
                    func holds(_ k: Int) -> Bool {
                        Self.bytesEqual(UnsafeRawBufferPointer(rebasing: names[(k == 0 ? 0 : ends[k - 1])..<ends[k]]), tres)
                    }
                    if lastSlot + 1 < ends.count && holds(lastSlot + 1) { slot = lastSlot + 1; return }
                    for k in ends.indices where holds(k) { slot = k; return }
                }
            }
            if slot < 0 {
                slot = tresEnds.count
                tresBytes.append(contentsOf: tres)
                tresEnds.append(tresBytes.count)
            }
            lastSlot = slot
            cellSlots.append(slot)
            cellSums.append(v)
        }
        guard plain else { return try byDictionary() }
        let tresNames: [[UInt8]] = tresEnds.indices.map { Array(tresBytes[($0 == 0 ? 0 : tresEnds[$0 - 1])..<tresEnds[$0]]) }
        if !owners.isEmpty { owners[owners.count - 1].cells = owners[owners.count - 1].cells.lowerBound..<cellSums.count }
        let comps: [Component] = components ?? Set(tresNames.map { String(decoding: $0, as: UTF8.self) }).sorted().map {
            Component(name: $0, unitFactor: ExactDecimal(digits: 1, scale: 0))
        }
        // A TRES counts for every component of its name.
        let slotComponents: [[Int]] = tresNames.map { t in comps.indices.filter { comps[$0].name.utf8.elementsEqual(t) } }
        var grid = UsageReport.Grid()
        grid.components = comps.map(\.name)
        grid.owners.reserveCapacity(owners.count)
        grid.natives.reserveCapacity(owners.count * comps.count)
        grid.amounts.reserveCapacity(owners.count * comps.count)
        var sums = [Int128](repeating: 0, count: comps.count)
        for o in owners {
            grid.owners.append(.init(resource: o.resource, user: o.user))
            for c in o.cells { for i in slotComponents[cellSlots[c]] { sums[i] += cellSums[c] } }
            for i in comps.indices {   // by index: a copy of each component would retain its texts
                grid.natives.append(sums[i])
                grid.amounts.append(comps[i].amount(fromNativeSeconds: sums[i]) ?? .zero)
                sums[i] = 0
            }
        }
        return UsageReport(grid: grid, period: period, observedUntil: marks)
    }

    /// Whether two byte ranges hold the same bytes.
    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        EventCodec.memoryEqual(a.assumingMemoryBound(to: UInt8.self), b.assumingMemoryBound(to: UInt8.self))
    }

    /// Native usage in any half-open window, from the latest version of every run (a full scan
    /// of the run index; independent of the month projection).
    public func nativeUsage(window: TimeWindow) throws -> (usage: [UsageKey: Int128], observedUntil: [String: EpochSeconds]) {
        let source = ledger.settings.tresSource
        let label = BillingMonth(year: 1, month: 1)!   // windows are not months; the key's month is unused
        return try ledger.store.read { r in
            var out: [UsageKey: Int128] = [:]
            let marks = try observationMarks(r)
            try r.forEachEntry(in: .runs, prefix: []) { _, v in
                guard let seq = StoreBytes.u64(v), case .jobRunObserved(let e)? = try r.event(at: seq) else {
                    throw EventStoreError.corrupt("run index points at no job run")
                }
                UsageContribution.forEachTRES(of: e.run, in: window, observedUntil: marks[e.run.identity.cluster], tresSource: source) { tres, v in
                    out[UsageKey(month: label, account: e.run.account, user: e.run.user, tres: tres), default: 0] += v
                }
                return true
            }
            return (out, marks)
        }
    }

    /// Turns native usage into report rows for `components` (nil: every TRES seen, unit factor 1,
    /// i.e. TRES-minutes with memory in MiB-minutes).
    public static func report(_ native: [UsageKey: Int128], period: String, grouping: UsageReport.Grouping,
                              components: [Component]?, observedUntil: [String: EpochSeconds]) -> UsageReport {
        let comps: [Component] = components ?? Set(native.keys.map(\.tres)).sorted().map {
            Component(name: $0, unitFactor: ExactDecimal(digits: 1, scale: 0))
        }
        // Native sums per resource, or per (resource, user), for the grouping asked for only.
        struct Owner: Hashable { let account: String; let user: String? }
        var sums: [Owner: [String: Int128]] = [:]   // owner → tres → native
        for (k, v) in native {
            sums[Owner(account: k.account, user: grouping == .user ? k.user : nil), default: [:]][k.tres, default: 0] += v
        }
        let owners = sums.keys.sorted { a, b in a.account != b.account ? a.account < b.account : (a.user ?? "") < (b.user ?? "") }
        var rows: [UsageReport.Row] = []
        rows.reserveCapacity(owners.count * comps.count)
        for o in owners {
            let byTRES = sums[o] ?? [:]
            for c in comps {
                let n = byTRES[c.name] ?? 0
                rows.append(.init(resource: o.account, user: o.user, component: c.name, period: period, native: n,
                                  amount: c.amount(fromNativeSeconds: n) ?? .zero))
            }
        }
        return UsageReport(rows: rows, period: period, observedUntil: observedUntil)
    }
}

func observationMarks(_ r: any EventStoreReader, prefix: String = ProjectionMeta.observedPrefix) throws -> [String: EpochSeconds] {
    var marks: [String: EpochSeconds] = [:]
    try r.forEachEntry(in: .meta, prefix: Array(prefix.utf8)) { k, v in
        guard let t = StoreBytes.u64(v) else { throw EventStoreError.corrupt("undecodable observation mark") }
        marks[String(decoding: k.dropFirst(prefix.utf8.count), as: UTF8.self)] = Int64(bitPattern: t)
        return true
    }
    return marks
}

func forEachOpenRun(_ r: any EventStoreReader, share: (part: Int, of: Int) = (0, 1), _ body: (JobRun) throws -> Void) throws {
    var index = -1
    try r.forEachEntry(in: .openRuns, prefix: []) { _, v in
        index += 1
        guard index % share.of == share.part else { return true }
        guard let seq = StoreBytes.u64(v), case .jobRunObserved(let e)? = try r.event(at: seq) else {
            throw EventStoreError.corrupt("open-run entry points at no job run")
        }
        try body(e.run)
        return true
    }
}
