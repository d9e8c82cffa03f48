import ReckonCore
import Testing

/// The usage table's records (``UsageRecord``: one per owner-month, its cells in the value):
/// cells read back in key order with their sums, whichever way they were written; an owner-month
/// is one record; cancelled cells and records go; a damaged value is reported.
@Suite struct UsageRecordTests {
    /// The non-zero cells of accumulators added together, by key bytes, in byte order.
    static func expectedCells(_ accs: [UsageAccumulator]) -> [([UInt8], Int128)] {
        var sum: [[UInt8]: Int128] = [:]
        for acc in accs { acc.forEachCellKeyBytes { k, v in sum[k, default: 0] += v } }
        return sum.filter { $0.value != 0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }

    static func storedCells(_ store: InMemoryEventStore) throws -> [([UInt8], Int128)] {
        try store.read { r in
            var out: [([UInt8], Int128)] = []
            try UsageTable.forEachStoredCell(r, prefix: []) { k, v in out.append((Array(k), v)) }
            return out
        }
    }

    /// `acc` with every amount negated.
    static func negated(_ acc: UsageAccumulator) -> UsageAccumulator {
        var out = UsageAccumulator()
        acc.forEachCell { k, v in
            out.add(owner: out.owner(account: k.account, user: k.user), monthOrdinal: k.month.ordinal, tres: out.tres(k.tres), -v)
        }
        return out
    }

    @Test func cellsReadBackInKeyOrderAfterAFirstWriteAndAfterMerges() throws {
        var g = ProjectionReplayTests.Rng(s: 0x5eed_7ab1e)
        for round in 0..<20 {
            let store = InMemoryEventStore()
            let first = UsageAccumulatorOrderTests.randomAccumulator(&g, cells: 1 + round * 29)
            try store.write { w in try UsageTable.add(first, in: w) }   // an empty table: records appended in key order
            var got = try Self.storedCells(store)
            var want = Self.expectedCells([first])
            #expect(got.map(\.0) == want.map(\.0), "round \(round), first write")
            #expect(got.map(\.1) == want.map(\.1), "round \(round), first write")
            let second = UsageAccumulatorOrderTests.randomAccumulator(&g, cells: 1 + round * 13)
            try store.write { w in try UsageTable.add(second, in: w) }   // records read, merged, written back
            got = try Self.storedCells(store)
            want = Self.expectedCells([first, second])
            #expect(got.map(\.0) == want.map(\.0), "round \(round), merged")
            #expect(got.map(\.1) == want.map(\.1), "round \(round), merged")
            // Taking everything back out leaves no cell and no record.
            try store.write { w in
                try UsageTable.add(Self.negated(first), in: w)
                try UsageTable.add(Self.negated(second), in: w)
            }
            #expect(try Self.storedCells(store).isEmpty, "round \(round)")
            #expect(try store.read { r in
                var n = 0
                try r.forEachEntry(in: .usage, prefix: []) { _, _ in n += 1; return true }
                return n
            } == 0, "round \(round)")
        }
    }

    /// Three TRES of one owner in one month and one of another owner: two records, each owner's
    /// cells in its value in TRES name order (billing < cpu < mem), the month's prefix finds both.
    @Test func anOwnerMonthIsOneRecord() throws {
        var acc = UsageAccumulator()
        let alice = acc.owner(account: "acct", user: "alice"), bob = acc.owner(account: "acct", user: "bob")
        let march = BillingMonth(year: 2026, month: 3)!
        acc.add(owner: alice, monthOrdinal: march.ordinal, tres: acc.tres("mem"), 300)
        acc.add(owner: alice, monthOrdinal: march.ordinal, tres: acc.tres("cpu"), 200)
        acc.add(owner: alice, monthOrdinal: march.ordinal, tres: acc.tres("billing"), 100)
        acc.add(owner: bob, monthOrdinal: march.ordinal, tres: acc.tres("cpu"), 7)
        let store = InMemoryEventStore()
        try store.write { w in try UsageTable.add(acc, in: w) }
        let records: [[UInt8]: [UInt8]] = try store.read { r in
            var out: [[UInt8]: [UInt8]] = [:]
            try r.forEachEntry(in: .usage, prefix: []) { k, v in out[k] = v; return true }
            return out
        }
        let m = UInt32(march.ordinal)
        let monthBytes: [UInt8] = [UInt8(m >> 24), UInt8(m >> 16 & 0xff), UInt8(m >> 8 & 0xff), UInt8(m & 0xff)]
        let aliceKey = monthBytes + Array("acct".utf8) + [0] + Array("alice".utf8)
        #expect(Set(records.keys) == [aliceKey, monthBytes + Array("acct".utf8) + [0] + Array("bob".utf8)])
        let cells = try aliceKey.withUnsafeBytes { k in try (records[aliceKey] ?? []).withUnsafeBytes { try UsageRecord.cells(key: k, value: $0) } }
        #expect(cells.map { String(decoding: $0.0, as: UTF8.self) } == ["billing", "cpu", "mem"])
        #expect(cells.map(\.1) == [100, 200, 300])
        let inMonth = try store.read { r in
            var n = 0
            try UsageTable.forEachCell(r, prefix: UsageKey.monthPrefix(march), settings: ProjectionSettings(
                calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)) { _, _ in n += 1 }
            return n
        }
        #expect(inMonth == 4)
    }

    @Test func aDamagedRecordIsReported() throws {
        let store = InMemoryEventStore()
        // A cell naming a 3-byte TRES and then only 10 of its amount's 16 bytes.
        try store.write { w in try w.put([3] + Array("cpu".utf8) + [UInt8](repeating: 0, count: 10), in: .usage, key: [0, 0, 95, 0, 97, 0, 117]) }
        #expect(throws: EventStoreError.corrupt("undecodable usage record (7-byte key): a TRES name or amount runs past its end")) {
            _ = try Self.storedCells(store)
        }
    }
}
