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
    // Owners: account bytes, a 0, user bytes, in one arena. (The storage is read by this type's
    // extensions in UsageAccumulator+KeyOrder.swift and +EncodedRun.swift; only this file writes it.)
    private(set) var arena: [UInt8] = []
    private(set) var ownerStart: [Int32] = []
    private(set) var ownerAccountLength: [Int32] = []
    private(set) var ownerUserLength: [Int32] = []
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
    private(set) var cells: [Cell] = []
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

    func tresName(_ n: UInt16) -> String {
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

    /// Adds `amount` to the cell `key`, the first cell of a run of its owner (the key's top
    /// half), looked for first where the owner's last run began (``ownerCellHint``), which then
    /// becomes this one; returns the cell's index.
    @inline(__always)
    mutating func addFirstOfRun(key: UInt64, _ amount: Int128) -> Int {
        let who = Int(truncatingIfNeeded: key >> 32)
        let hint = Int(ownerCellHint[who])
        let c: Int
        if hint >= 0, hint < cells.count, cells[hint].key == key {
            cells[hint].amount += amount
            c = hint
        } else {
            c = add(key: key, amount)
        }
        ownerCellHint[who] = Int32(truncatingIfNeeded: c)
        return c
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

    /// A record key (``UsageRecord``): the month, the account, a zero byte, the user.
    func ownerMonthKey(_ packed: UInt64, into key: inout [UInt8]) {
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
