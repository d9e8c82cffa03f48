import ReckonCore
import Testing

/// A first import appends its usage cells to the empty table in key order
/// (``UsageAccumulator/forEachRecordInKeyOrder(_:)``, ``UsageTable/add(_:in:)``): the order
/// must be exactly the bytes' order, and names with a zero byte (the key's separator) must take
/// the path that does not depend on it.
@Suite struct UsageAccumulatorOrderTests {
    /// Names that are prefixes of each other, differ after a shared prefix of eight bytes or
    /// more (the comparator reads eight at a time), and mix `_`, digits and letters.
    static let accounts = ["a", "ab", "a_b", "hpc_x", "hpc_x1", "hpc_x10", "hpc_x2", "hpc_physics_2026", "hpc_physics_2026b", "z"]
    static let users = ["u", "u1", "u_1", "uu", "user_0000000001", "user_00000000010", "user_0000000002", "v"]
    /// Well-known TRES (one-byte codes) and others (numbered from 256), in no particular order.
    static let tres = ["mem", "cpu", "gres/gpu", "license/matlab", "billing", "gres/gpu:a100", "node", "fs/lustre", "energy"]

    static func randomAccumulator(_ g: inout ProjectionReplayTests.Rng, cells: Int, accounts: [String] = accounts, users: [String] = users) -> UsageAccumulator {
        var acc = UsageAccumulator()
        for _ in 0..<cells {
            let o = acc.owner(account: accounts[g.int(accounts.count)], user: users[g.int(users.count)])
            let t = acc.tres(tres[g.int(tres.count)])
            let month = [24_312, 24_313, 24_324, 24_325][g.int(4)]   // months of 2026 and 2027: the ordinal's low byte wraps
            acc.add(owner: o, monthOrdinal: month, tres: t, Int128(g.int(1_000)) - 100)
        }
        return acc
    }

    @Test func keyOrderIsTheBytesOrder() throws {
        var g = ProjectionReplayTests.Rng(s: 0x0dd_5eed)
        for round in 0..<40 {
            let acc = Self.randomAccumulator(&g, cells: 1 + round * 37)
            var plain: [([UInt8], Int128)] = []
            acc.forEachCellKeyBytes { k, v in plain.append((k, v)) }
            var ordered: [([UInt8], Int128)] = []
            var scratch: [UInt8] = []
            try acc.forEachRecordInKeyOrder { key, value in
                try key.withUnsafeBytes { k in
                    try value.withUnsafeBytes { v in
                        try UsageRecord.forEachCell(key: k, value: v, scratch: &scratch) { cell, amount in ordered.append((Array(cell), amount)) }
                    }
                }
            }
            let want = plain.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            #expect(ordered.map(\.0) == want.map(\.0), "round \(round)")
            #expect(ordered.map(\.1) == want.map(\.1), "round \(round)")
            #expect(!acc.hasNameWithZeroByte)
        }
    }

    /// Two owners whose keys are the same bytes (`a` + `b\0c` and `a\0b` + `c`), and keys that do
    /// not sort as their parts: an empty table still takes them all, summed as the cell-by-cell
    /// path sums them. (The LMDB store's side: `MonthReportTests`, through a real import.)
    @Test func namesWithAZeroByteDoNotBreakTheFirstWrite() throws {
        var acc = UsageAccumulator()
        let pairs = [("a", "b\u{0}c"), ("a\u{0}b", "c"), ("acct", "alice"), ("acct", "alice\u{0}"), ("acct", "alice\u{0}\u{0}x")]
        for (i, (a, u)) in pairs.enumerated() {
            acc.add(owner: acc.owner(account: a, user: u), monthOrdinal: 24_314, tres: acc.tres("cpu"), Int128(10 + i))
            acc.add(owner: acc.owner(account: a, user: u), monthOrdinal: 24_314, tres: acc.tres("mem"), Int128(100 + i))
        }
        #expect(acc.hasNameWithZeroByte)
        var want: [[UInt8]: Int128] = [:]
        acc.forEachCellKeyBytes { k, v in want[k, default: 0] += v }
        #expect(want.count < 2 * pairs.count)   // two owners did share keys
        do {
            let store = InMemoryEventStore()
            try store.write { w in try UsageTable.add(acc, in: w) }
            let got: [[UInt8]: Int128] = try store.read { r in
                var out: [[UInt8]: Int128] = [:]
                try UsageTable.forEachStoredCell(r, prefix: []) { k, v in out[Array(k), default: 0] += v }
                return out
            }
            #expect(got == want)
        }
    }
}
