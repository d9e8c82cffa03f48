/// Sums native usage per (account, user, month, TRES) cell while a log is replayed or a batch is
/// recorded, without building a `String` or a ``UsageKey`` per contribution.
///
/// A replay adds several contributions for each of a million events; hashing a four-string
/// ``UsageKey`` for every one of them was half of replay's time. Here an owner (account, user)
/// is interned once from its UTF-8 bytes into a dense number, TRES names into small numbers, and
/// a cell is one open-addressed slot keyed by `(owner, month ordinal, TRES)` packed into 64 bits.
/// Addition is exact (`Int128`) and commutative, so the sums do not depend on the order the
/// contributions arrive in; cells that sum to zero are dropped by ``closedUsage()``, exactly as
/// the incremental projection drops them.
public struct UsageAccumulator: Sendable {
    // Owners: account bytes, a 0, user bytes, in one arena.
    private var arena: [UInt8] = []
    private var ownerStart: [Int32] = []
    private var ownerAccountLength: [Int32] = []
    private var ownerUserLength: [Int32] = []
    private var ownerHash: [UInt64] = []
    /// Open-addressed owner table: owner number + 1, 0 when empty.
    private var ownerSlots: [Int32] = Array(repeating: 0, count: 1024)

    /// Whether some interned account, user or TRES name holds a zero byte — the separator of
    /// ``UsageKey/bytes``, so such keys do not sort as their parts do (and two owners can even
    /// share a key): ``forEachRecordInKeyOrder(_:)`` is not to be used then. No Slurm name
    /// holds one; a damaged dump can.
    public private(set) var hasNameWithZeroByte = false

    // TRES: numbers 1…16 are ``EventCodec``'s one-byte codes; other names are numbered from 256.
    private var tresNames: [String] = []
    private var tresNumbers: [String: UInt16] = [:]

    // Cells: packed key and sum, side by side (a cell looked up is one place in memory, not two),
    // and an open-addressed index of them by key.
    private var cells: [Cell] = []
    private var cellSlots: [Int32] = Array(repeating: 0, count: 4096)
    /// Per owner: the cell its last finished run added first, or -1. An owner's runs nearly
    /// always add to the cells its previous run added, in the same order (its TRES in one
    /// month), so the first one is found here without a look in `cellSlots` — in an import's
    /// sum of ~70,000 cells, a cache miss saved per run.
    private var ownerCellHint: [Int32] = []

    /// A cell: its packed key (``cellKey(_:_:_:)``) and its native sum, as two words rather
    /// than an `Int128`, so that a cell is 24 bytes, not 32.
    struct Cell {
        var key: UInt64
        var low: UInt64
        var high: Int64
        init(key: UInt64, amount: Int128) {
            self.key = key
            low = UInt64(truncatingIfNeeded: amount)
            high = Int64(truncatingIfNeeded: amount >> 64)
        }
        var amount: Int128 {
            @inline(__always) get { Int128(high) << 64 | Int128(low) }
            @inline(__always) set { low = UInt64(truncatingIfNeeded: newValue); high = Int64(truncatingIfNeeded: newValue >> 64) }
        }
    }

    public init() {}

    /// Whether nothing was ever added (no owner interned, no cell).
    public var isEmpty: Bool { cells.isEmpty && ownerStart.isEmpty }

    // MARK: owners

    /// The hash of an owner: the account's, continued by the user's (each takes its length in,
    /// which separates ("ab", "c") from ("a", "bc")).
    @inline(__always)
    static func hashBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt64 {
        ByteHash.hash(b, seed: ByteHash.hash(a))
    }

    /// The number of the owner (account, user) given as UTF-8 bytes, interning it if new.
    public mutating func owner(account: UnsafeRawBufferPointer, user: UnsafeRawBufferPointer) -> Int32 {
        let h = Self.hashBytes(account, user)
        let mask = ownerSlots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = ownerSlots[i]
            if s == 0 { break }
            let o = Int(s - 1)
            if ownerHash[o] == h && ownerMatches(o, account, user) { return Int32(o) }
            i = (i + 1) & mask
        }
        let o = Int32(ownerStart.count)
        if account.contains(0) || user.contains(0) { hasNameWithZeroByte = true }
        ownerStart.append(Int32(arena.count))
        ownerAccountLength.append(Int32(account.count))
        ownerUserLength.append(Int32(user.count))
        ownerHash.append(h)
        ownerCellHint.append(-1)
        arena.append(contentsOf: account)
        arena.append(0)
        arena.append(contentsOf: user)
        ownerSlots[i] = o + 1
        if ownerStart.count * 2 > ownerSlots.count { growOwners() }
        return o
    }

    /// The number of the owner (account, user).
    public mutating func owner(account: String, user: String) -> Int32 {
        var a = account, u = user
        return a.withUTF8 { ab in u.withUTF8 { ub in owner(account: UnsafeRawBufferPointer(ab), user: UnsafeRawBufferPointer(ub)) } }
    }

    private func ownerMatches(_ o: Int, _ account: UnsafeRawBufferPointer, _ user: UnsafeRawBufferPointer) -> Bool {
        let al = Int(ownerAccountLength[o]), ul = Int(ownerUserLength[o])
        guard al == account.count, ul == user.count else { return false }
        let s = Int(ownerStart[o])
        return arena.withUnsafeBufferPointer { a in
            EventCodec.memoryEqual(UnsafeBufferPointer(rebasing: a[s..<(s + al)]), account.assumingMemoryBound(to: UInt8.self))
                && EventCodec.memoryEqual(UnsafeBufferPointer(rebasing: a[(s + al + 1)..<(s + al + 1 + ul)]), user.assumingMemoryBound(to: UInt8.self))
        }
    }

    private mutating func growOwners() {
        var slots = [Int32](repeating: 0, count: ownerSlots.count * 2)
        let mask = slots.count - 1
        for o in 0..<ownerStart.count {
            var i = Int(truncatingIfNeeded: ownerHash[o]) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(o + 1)
        }
        ownerSlots = slots
    }

    private func ownerStrings(_ o: Int) -> (account: String, user: String) {
        let s = Int(ownerStart[o]), al = Int(ownerAccountLength[o]), ul = Int(ownerUserLength[o])
        let a = String(decoding: arena[s..<s + al], as: UTF8.self)
        let u = String(decoding: arena[(s + al + 1)..<(s + al + 1 + ul)], as: UTF8.self)
        return (a, u)
    }

    // MARK: TRES

    /// The number of a TRES name: its codec code when it has one, else a number from 256 up.
    public mutating func tres(_ name: String) -> UInt16 {
        let code = EventCodec.tresCode(name)
        if code != 0 { return UInt16(code) }
        if let n = tresNumbers[name] { return n }
        let n = UInt16(truncatingIfNeeded: 256 + tresNames.count)
        if name.utf8.contains(0) { hasNameWithZeroByte = true }
        tresNames.append(name)
        tresNumbers[name] = n
        return n
    }

    private func tresName(_ n: UInt16) -> String {
        if n >= 1 && Int(n) <= EventCodec.wellKnownTRES.count { return EventCodec.wellKnownTRES[Int(n) - 1] }
        return tresNames[Int(n) - 256]
    }

    // MARK: cells

    /// Adds `amount` to the cell (owner, month, TRES).
    @inline(__always)
    public mutating func add(owner: Int32, monthOrdinal: Int, tres: UInt16, _ amount: Int128) {
        _ = add(key: Self.cellKey(owner, monthOrdinal, tres), amount)
    }

    /// A cell's packed key: owner, month ordinal, TRES number.
    @inline(__always)
    static func cellKey(_ owner: Int32, _ monthOrdinal: Int, _ tres: UInt16) -> UInt64 {
        UInt64(UInt32(bitPattern: owner)) << 32 | UInt64(UInt16(truncatingIfNeeded: monthOrdinal)) << 16 | UInt64(tres)
    }

    /// Adds `amount` to the cell `key`, found after the cell at index `previous` without a probe
    /// of the table when it is the next one: a run's cells (its TRES in one month) are added
    /// one after the other, and those of an owner-month were first added — so stored — in the
    /// same order, nearly always. Returns the cell's index, for the next call.
    @inline(__always)
    mutating func add(key: UInt64, _ amount: Int128, after previous: Int) -> Int {
        let next = previous &+ 1
        if previous >= 0, next < cells.count, cells[next].key == key {
            cells[next].amount += amount
            return next
        }
        return add(key: key, amount)
    }

    /// Adds `amount` to the cell `key`, looked for first at `hint` (an owner's
    /// ``ownerCellHint``); returns the cell's index.
    @inline(__always)
    mutating func add(key: UInt64, _ amount: Int128, hint: Int) -> Int {
        if hint >= 0, hint < cells.count, cells[hint].key == key {
            cells[hint].amount += amount
            return hint
        }
        return add(key: key, amount)
    }

    /// Adds `amount` to the cell `key`; returns the cell's index.
    @inline(__always)
    mutating func add(key: UInt64, _ amount: Int128) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        let mask = cellSlots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = cellSlots[i]
            if s == 0 { break }
            let c = Int(s - 1)
            if cells[c].key == key { cells[c].amount += amount; return c }
            i = (i + 1) & mask
        }
        let c = cells.count
        cellSlots[i] = Int32(c + 1)
        cells.append(Cell(key: key, amount: amount))
        if cells.count * 2 > cellSlots.count { growCells() }
        return c
    }

    private mutating func growCells() {
        var slots = [Int32](repeating: 0, count: cellSlots.count * 2)
        let mask = slots.count - 1
        for (c, cell) in cells.enumerated() {
            var h = cell.key &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(c + 1)
        }
        cellSlots = slots
    }

    /// Adds every contribution of a finished run (sign +1) or takes it away (sign −1).
    public mutating func add(_ run: JobRun, sign: Int128, settings: ProjectionSettings) {
        var o: Int32 = -1
        UsageContribution.forEachMonthAndTRES(of: run, observedUntil: nil, settings: settings) { month, name, v in
            if o < 0 { o = owner(account: run.account, user: run.user) }
            add(owner: o, monthOrdinal: month.ordinal, tres: tres(name), sign * v)
        }
    }

    /// Visits every cell whose sum is not zero, with its key.
    public func forEachCell(_ body: (UsageKey, Int128) throws -> Void) rethrows {
        var names: [Int32: (String, String)] = [:]
        for cell in cells where cell.amount != 0 {
            let key = cell.key
            let o = Int32(truncatingIfNeeded: key >> 32)
            let who: (String, String)
            if let w = names[o] { who = w } else { who = ownerStrings(Int(o)); names[o] = who }
            guard let month = BillingMonth(ordinal: Int((key >> 16) & 0xffff)) else { continue }
            try body(UsageKey(month: month, account: who.0, user: who.1, tres: tresName(UInt16(key & 0xffff))), cell.amount)
        }
    }

    /// Visits every cell whose sum is not zero with its ``UsageKey/bytes`` (built straight from
    /// the interned bytes), for writing into the store's usage table.
    public func forEachCellKeyBytes(_ body: ([UInt8], Int128) throws -> Void) rethrows {
        var key: [UInt8] = []
        for cell in cells where cell.amount != 0 {
            try body(keyBytes(cell.key, into: &key), cell.amount)
        }
    }

    /// The usage table's records (``UsageRecord``) of the non-zero cells, in key order: each
    /// owner-month's key and value, built straight from the interned bytes — for filling an
    /// empty table with appends. The cells come in their keys' byte order (see
    /// ``liveCellsInKeyOrder()``; not to be used when ``hasNameWithZeroByte``), so those of one
    /// owner-month are adjacent.
    public func forEachRecordInKeyOrder(_ body: ([UInt8], [UInt8]) throws -> Void) rethrows {
        let (order, tresBytes) = liveCellsInKeyOrder()
        // The TRES names end to end, so that a cell's name is read without taking a reference
        // to an inner array (one atomic count up and down per cell).
        var tresEnds: [Int] = []
        tresEnds.reserveCapacity(tresBytes.count)
        var tresNames: [UInt8] = []
        for t in tresBytes { tresNames.append(contentsOf: t); tresEnds.append(tresNames.count) }
        var key: [UInt8] = []
        var record = UsageRecord.Builder()
        var current: UInt64?   // owner and month of the record being built
        try tresNames.withUnsafeBytes { names in
            for c in order {
                let packed = cells[Int(c)].key
                let ownerMonth = packed >> 16
                if ownerMonth != current {
                    if !record.isEmpty { try body(key, record.bytes) }
                    record.removeAll()
                    current = ownerMonth
                    ownerMonthKey(packed, into: &key)
                }
                let t = Int(packed & 0xffff)
                let name = UnsafeRawBufferPointer(rebasing: names[(t == 0 ? 0 : tresEnds[t - 1])..<tresEnds[t]])
                record.add(tres: name, amount: cells[Int(c)].amount)
            }
        }
        if !record.isEmpty { try body(key, record.bytes) }
    }

    /// The live cells' indices in key order (month, then owner bytes, then TRES name), and each
    /// TRES id's name bytes. Owners are ranked by their bytes and TRES by their names, once; the
    /// cells are then ordered by a radix sort on (month, owner rank, TRES rank). This is exactly
    /// ``UsageKey/bytes``' order when no name holds a zero byte (``hasNameWithZeroByte`` false):
    /// comparing the month, then `account 0 user`, then the TRES name, compares the whole key.
    private func liveCellsInKeyOrder() -> (order: [Int32], tresBytes: [[UInt8]]) {
        let owners = ownerStart.count
        // Owners sorted by their bytes: by their first 16 bytes as two big-endian words (zero
        // padded, so a tie is left to the full comparison, which puts a prefix first), then,
        // on a tie, by all of them.
        var ownerOrder: [(UInt64, UInt64, Int32)] = []
        ownerOrder.reserveCapacity(owners)
        arena.withUnsafeBufferPointer { a in
            guard let base = a.baseAddress else { return }
            func bytes(_ o: Int32) -> UnsafeBufferPointer<UInt8> {
                let i = Int(o)
                return UnsafeBufferPointer(start: base + Int(ownerStart[i]), count: Int(ownerAccountLength[i]) + 1 + Int(ownerUserLength[i]))
            }
            func word(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> UInt64 {
                var w: UInt64 = 0
                for k in 0..<8 { w = w << 8 | UInt64(from + k < b.count ? b[from + k] : 0) }
                return w
            }
            for o in 0..<Int32(truncatingIfNeeded: owners) {
                let b = bytes(o)
                ownerOrder.append((word(b, 0), word(b, 8), o))
            }
            ownerOrder.sort { x, y in
                if x.0 != y.0 { return x.0 < y.0 }
                if x.1 != y.1 { return x.1 < y.1 }
                return StoreBytes.precede(bytes(x.2), bytes(y.2))
            }
        }
        var ownerRank = [Int](repeating: 0, count: owners)
        for (r, o) in ownerOrder.enumerated() { ownerRank[Int(o.2)] = r }
        // TRES and months in use, ranked (few of each); a TRES's name bytes kept by its id.
        var tresSeen = [Bool](repeating: false, count: 1 << 16)
        var monthSeen = [Bool](repeating: false, count: 1 << 16)
        var live = 0
        for cell in cells where cell.amount != 0 {
            let packed = cell.key
            tresSeen[Int(packed & 0xffff)] = true
            monthSeen[Int((packed >> 16) & 0xffff)] = true
            live += 1
        }
        let tresInUse = tresSeen.indices.filter { tresSeen[$0] }.map { UInt16(truncatingIfNeeded: $0) }
        let monthsInUse = monthSeen.indices.filter { monthSeen[$0] }.map { UInt16(truncatingIfNeeded: $0) }
        let tresOrder = tresInUse.map { (id: $0, name: Array(tresName($0).utf8)) }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        var tresRank = [Int](repeating: 0, count: Int(tresInUse.max() ?? 0) + 1)
        var tresBytes = [[UInt8]](repeating: [], count: tresRank.count)
        for (r, t) in tresOrder.enumerated() { tresRank[Int(t.id)] = r; tresBytes[Int(t.id)] = t.name }
        let monthOrder = monthsInUse.sorted()
        var monthRank = [Int](repeating: 0, count: Int(monthOrder.last ?? 0) - Int(monthOrder.first ?? 0) + 1)
        for (r, m) in monthOrder.enumerated() { monthRank[Int(m) - Int(monthOrder.first ?? 0)] = r }
        // A least-significant-digit radix sort of the live cells: stable counting sorts by TRES
        // rank, then owner rank, then month rank leave them in (month, owner, TRES) order, in
        // time and space linear in the cells plus the owners, months and TRES in use.
        var order = [Int32]()
        order.reserveCapacity(live)
        for c in cells.indices where cells[c].amount != 0 { order.append(Int32(truncatingIfNeeded: c)) }
        var sorted = [Int32](repeating: 0, count: live)
        func countingSort(buckets: Int, _ digit: (UInt64) -> Int) {
            var starts = [Int](repeating: 0, count: buckets + 1)
            for c in order { starts[digit(cells[Int(c)].key) + 1] += 1 }
            for b in 1..<starts.count { starts[b] += starts[b - 1] }
            for c in order {
                let d = digit(cells[Int(c)].key)
                sorted[starts[d]] = c
                starts[d] += 1
            }
            swap(&order, &sorted)
        }
        countingSort(buckets: tresOrder.count) { tresRank[Int($0 & 0xffff)] }
        countingSort(buckets: owners) { ownerRank[Int(truncatingIfNeeded: $0 >> 32)] }
        let firstMonth = Int(monthOrder.first ?? 0)
        countingSort(buckets: monthOrder.count) { monthRank[Int(($0 >> 16) & 0xffff) - firstMonth] }
        return (order, tresBytes)
    }

    /// A record key (``UsageRecord``): the month, the account, a zero byte, the user.
    private func ownerMonthKey(_ packed: UInt64, into key: inout [UInt8]) {
        let o = Int(truncatingIfNeeded: packed >> 32)
        let m = UInt32(truncatingIfNeeded: (packed >> 16) & 0xffff)
        key.removeAll(keepingCapacity: true)
        key.append(UInt8(m >> 24)); key.append(UInt8(truncatingIfNeeded: m >> 16))
        key.append(UInt8(truncatingIfNeeded: m >> 8)); key.append(UInt8(truncatingIfNeeded: m))
        let s = Int(ownerStart[o])
        arena.withUnsafeBufferPointer { a in
            key.append(contentsOf: UnsafeBufferPointer(rebasing: a[s..<(s + Int(ownerAccountLength[o]) + 1 + Int(ownerUserLength[o]))]))
        }
    }

    /// The ``UsageKey/bytes`` of a packed cell key, built in `key`'s storage, with the TRES
    /// name's bytes at hand.
    private func keyBytes(_ packed: UInt64, tres: [UInt8], into key: inout [UInt8]) -> [UInt8] {
        ownerMonthKey(packed, into: &key)   // month, account 0 user
        key.append(0)
        key.append(contentsOf: tres)
        return key
    }

    /// The ``UsageKey/bytes`` of a packed cell key, built in `key`'s storage.
    private func keyBytes(_ packed: UInt64, into key: inout [UInt8]) -> [UInt8] {
        keyBytes(packed, tres: Array(tresName(UInt16(packed & 0xffff)).utf8), into: &key)
    }

    /// Adds every cell of `other` (an import's batches, each summed on its own, into one).
    public mutating func add(_ other: UsageAccumulator) {
        var owners = [Int32](repeating: -1, count: other.ownerStart.count)
        other.arena.withUnsafeBytes { arena in
            for o in 0..<other.ownerStart.count {
                let s = Int(other.ownerStart[o]), al = Int(other.ownerAccountLength[o]), ul = Int(other.ownerUserLength[o])
                owners[o] = owner(account: UnsafeRawBufferPointer(rebasing: arena[s..<s + al]),
                                  user: UnsafeRawBufferPointer(rebasing: arena[(s + al + 1)..<(s + al + 1 + ul)]))
            }
        }
        var previous = -1
        for cell in other.cells where cell.amount != 0 {
            let key = cell.key
            let o = owners[Int(truncatingIfNeeded: key >> 32)]
            let t = UInt16(truncatingIfNeeded: key & 0xffff)
            previous = add(key: Self.cellKey(o, Int((key >> 16) & 0xffff), t < 256 ? t : tres(other.tresName(t))),
                           cell.amount, after: previous)
        }
    }

    /// The non-zero cells as the projection's `closed` table.
    public func closedUsage() -> [UsageKey: Int128] {
        var out: [UsageKey: Int128] = [:]
        out.reserveCapacity(cells.count)
        forEachCell { k, v in out[k] = v }
        return out
    }
}

extension UsageAccumulator {
    /// Adds the usage of an encoded event, read straight from its bytes, when it is the first
    /// version (no `supersedes`) of a run with a start and an end whose TRES are all well-known
    /// names, each once (nearly every run); returns false, having changed nothing, for anything
    /// else, which the caller decodes and adds with ``add(_:sign:settings:)`` — the same
    /// arithmetic (``ActiveTime``, the calendar's month split, amount × seconds).
    ///
    /// `ownerAt`, when not 0, is where the account's length starts (``JobRunRecorder/PreparedRun``
    /// knows it for bytes the sacct fast path wrote): the identity and the job id between are
    /// not read, as they do not bear on usage.
    public mutating func addFinishedFirstVersion(_ buf: UnsafeRawBufferPointer, settings: ProjectionSettings,
                                                 sign: Int128 = 1, ownerAt: Int = 0) -> Bool {
        var r = ByteReader(buf)
        guard let kind = r.peekU8(), kind == EventCodec.Kind.jobRunObserved.rawValue else { return false }
        r.skip(1)
        guard r.next() == 1, r.next() == 0 else { return false }   // version 1, supersedes nothing
        if ownerAt > 3 && ownerAt < buf.count {
            r.skip(ownerAt - 3)
        } else {
            switch r.next() {
            case 1: guard r.skipString(), r.skipVarint() else { return false }
            case 2: guard r.skipString(), r.skipVarint(), r.skipVarint() else { return false }
            case 3: guard r.skipString(), r.skipString(), r.skipVarint() else { return false }
            default: return false
            }
            guard r.skipString() else { return false }
        }
        guard let account = r.stringBytes(), let user = r.stringBytes() else { return false }
        guard let state = r.next() else { return false }
        if state == 0 || state & 0x80 != 0 { guard r.skipString() else { return false } }
        guard let submit = r.zigzagOrNil(), let flags = r.next(), flags & 3 == 3,
              let toStart = r.zigzagOrNil(), let toEnd = r.zigzagOrNil(), let suspended = r.zigzagOrNil() else { return false }
        let (start, o1) = submit.addingReportingOverflow(toStart)
        let (end, o2) = start.addingReportingOverflow(toEnd)
        guard !o1, !o2 else { return false }
        var alloc: UnsafeRawBufferPointer?
        var req: UnsafeRawBufferPointer?
        if flags & 4 != 0 { guard let l = r.wellKnownTRESList() else { return false }; alloc = l }
        if flags & 8 != 0 {
            if flags & 16 != 0 { req = alloc } else { guard let l = r.wellKnownTRESList() else { return false }; req = l }
        }
        guard r.isAtEnd else { return false }
        guard let list = settings.tresSource == .alloc ? alloc : req, end > start else { return true }
        var who: Int32 = -1
        var previous = -1
        settings.calendar.forEachMonth(overlapping: start, end) { month, part in
            let secs = ActiveTime.seconds(start: start, end: end, suspended: suspended, within: part.start, part.end)
            guard secs > 0 else { return }
            var t = ByteReader(list)
            guard let n = t.varintOrNil() else { return }
            for _ in 0..<n {
                guard let code = t.next(), let amount = t.zigzagOrNil() else { return }
                guard amount != 0 else { continue }
                let key = Self.cellKey(who < 0 ? owner(account: account, user: user) : who, month.ordinal, UInt16(code))
                if who < 0 {   // the run's first cell: where the owner's last run began
                    who = Int32(truncatingIfNeeded: key >> 32)
                    previous = add(key: key, sign * Int128(amount) * Int128(secs), hint: Int(ownerCellHint[Int(who)]))
                    ownerCellHint[Int(who)] = Int32(truncatingIfNeeded: previous)
                } else {
                    previous = add(key: key, sign * Int128(amount) * Int128(secs), after: previous)
                }
            }
        }
        return true
    }
}
