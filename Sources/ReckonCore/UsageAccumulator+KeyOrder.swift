/// ``UsageAccumulator``'s cells in the usage table's key order, for filling an empty table with
/// appends (a first import's usage, written once at its end).
extension UsageAccumulator {
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
}
