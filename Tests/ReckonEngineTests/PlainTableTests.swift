import ReckonCore
@testable import ReckonEngine
import Testing

/// `reckon usage`, `plan` and friends print through `PlainTable`: columns two spaces apart, as
/// wide as their widest cell in characters (not bytes), numbers right-aligned, no trailing spaces.
@Suite struct PlainTableTests {
    @Test func alignsByCharactersAndTrimsTrailingSpaces() {
        var t = PlainTable(headers: ["RESOURCE", "USER", "AMOUNT"], rightAligned: [2])
        t.add(["hpc_a", "jüri", "1.50"])
        t.add(["hpc_long_name", "", "12345.00"])
        t.add(["x", "ø", ""])
        // Written out by hand: widths 13, 4, 8.
        let expected = """
        RESOURCE       USER    AMOUNT
        -------------  ----  --------
        hpc_a          jüri      1.50
        hpc_long_name        12345.00
        x              ø
        """
        #expect(t.render() == expected)
    }

    @Test func anEmptyTableIsItsHeader() {
        #expect(PlainTable(headers: ["A", "BB"]).render() == "A  BB\n-  --")
    }

    /// What `PlainTable` makes of the reports' rows: the reference `UsageReportText` must match.
    static func plainTable(_ reports: [UsageReport], _ grouping: UsageReport.Grouping) -> String {
        var t = PlainTable(headers: UsageReportText.headers(grouping), rightAligned: [grouping == .user ? 4 : 3])
        for r in reports.flatMap(\.rows) {
            t.add(grouping == .user ? [r.resource, r.user ?? "", r.component, r.period, r.amount.description]
                                    : [r.resource, r.component, r.period, r.amount.description])
        }
        return t.render()
    }

    /// `reckon usage` renders its rows without `PlainTable` (``UsageReportText``); the text must be
    /// what `PlainTable` makes of the same rows, for both groupings, several reports, names that
    /// are wider in bytes than in characters, names all ASCII, an empty user and a header wider
    /// than every cell.
    @Test func theUsageTableIsThePlainTableOfItsRows() {
        func row(_ resource: String, _ user: String?, _ component: String, _ period: String, _ hundredths: Int) -> UsageReport.Row {
            .init(resource: resource, user: user, component: component, period: period, native: Int128(hundredths),
                  amount: WaldurAmount(hundredths: Int128(hundredths)))
        }
        let reports = [
            UsageReport(rows: [row("hpc_a", "jüri", "cpu", "2026-10", 150), row("hpc_a", "jüri", "mem", "2026-10", 1_234_500),
                               row("hpc_long_resource", nil, "gres/gpu", "2026-10", 0)], period: "2026-10", observedUntil: [:]),
            UsageReport(rows: [], period: "2026-11", observedUntil: [:]),
            UsageReport(rows: [row("ø", "u", "cpu", "2026-12", -5), row("b", "a_very_long_user_name", "cpu", "2026-12", 99_999_999)],
                        period: "2026-12", observedUntil: [:]),
        ]
        // All-ASCII reports take the table's byte-count path; the ones above, with `jüri` and `ø`, its
        // character-count path (the first has a non-ASCII name only in the user column, which the
        // grouping by resource does not print).
        let ascii = [
            UsageReport(rows: [row("hpc_a", "ann", "cpu", "2026-10", 150), row("hpc_a", "ann", "mem", "2026-10", 1_234_500),
                               row("hpc_long_resource", nil, "gres/gpu", "2026-10", 0)], period: "2026-10", observedUntil: [:]),
            UsageReport(rows: [row("b", "a_very_long_user_name", "cpu", "2026-12", 99_999_999), row("c", "", "cpu", "2026-12", -5)],
                        period: "2026-12", observedUntil: [:]),
        ]
        for (name, set) in [("mixed", reports), ("ascii", ascii), ("jüri by resource", [reports[0]])] {
            for grouping in UsageReport.Grouping.allCases {
                #expect(String(decoding: UsageReportText.table(set, grouping: grouping), as: UTF8.self)
                        == Self.plainTable(set, grouping), "\(name) \(grouping)")
            }
        }
        // And a table of headers only.
        #expect(String(decoding: UsageReportText.table([], grouping: .resource), as: UTF8.self)
                == PlainTable(headers: UsageReportText.headers(.resource), rightAligned: [3]).render())
    }

    /// From ``UsageReportText/parallelRows`` rows on, the table is made in two halves on two
    /// threads; it must still be exactly `PlainTable`'s. The widest cells of each column are in
    /// the second half only, the halves' boundary falls inside a report, one report is empty, and
    /// one set has its only non-ASCII name in the second half.
    @Test func aLargeTableMadeInHalvesIsThePlainTableOfItsRows() {
        let n = UsageReportText.parallelRows + 1_001
        func rows(_ range: Range<Int>, _ period: String, wideAt: Int, name: String) -> [UsageReport.Row] {
            range.map { i in
                .init(resource: i == wideAt ? name : "hpc_\(i % 97)", user: i % 5 == 0 ? nil : "u\(i % 13)",
                      component: i == wideAt ? "gres/gpu" : "cpu", period: period, native: Int128(i),
                      amount: WaldurAmount(hundredths: i == wideAt ? 123_456_789_012 : Int128(i)))
            }
        }
        for name in ["a_resource_name_wider_than_every_other", "jüri_øre_ressurss"] {
            let wide = n * 3 / 4
            let set = [
                UsageReport(rows: rows(0..<(n / 3), "2026-10", wideAt: -1, name: name), period: "2026-10", observedUntil: [:]),
                UsageReport(rows: [], period: "2026-11", observedUntil: [:]),
                UsageReport(rows: rows((n / 3)..<n, "2026-12", wideAt: wide, name: name), period: "2026-12", observedUntil: [:]),
            ]
            for grouping in UsageReport.Grouping.allCases {
                #expect(String(decoding: UsageReportText.table(set, grouping: grouping), as: UTF8.self)
                        == Self.plainTable(set, grouping), "\(name) \(grouping)")
            }
        }
    }

    /// `reckon usage` hands the table over in pieces (``UsageReportText/write(_:grouping:to:)``):
    /// the pieces joined must be exactly `PlainTable`'s text — over three rounds of the two
    /// reused buffers (five pieces), with the widest cells in the last piece, an empty report,
    /// and, for a name that is not ASCII, the whole table at once.
    @Test func aTableHandedOverInPiecesIsThePlainTableOfItsRows() throws {
        let n = 4 * UsageReportText.rowsPerPiece + 777
        for name in ["a_resource_name_wider_than_every_other", "jüri_øre_ressurss"] {
            let rows: [UsageReport.Row] = (0..<n).map { i in
                .init(resource: i == n - 5 ? name : "hpc_\(i % 97)", user: i % 5 == 0 ? nil : "u\(i % 13)",
                      component: i == n - 5 ? "gres/gpu" : "cpu", period: "2026-10", native: Int128(i),
                      amount: WaldurAmount(hundredths: i == n - 5 ? 123_456_789_012 : Int128(i) - 40_000))
            }
            let set = [UsageReport(rows: Array(rows[..<(n / 2)]), period: "2026-10", observedUntil: [:]),
                       UsageReport(rows: [], period: "2026-11", observedUntil: [:]),
                       UsageReport(rows: Array(rows[(n / 2)...]), period: "2026-10", observedUntil: [:])]
            for grouping in UsageReport.Grouping.allCases {
                var joined: [UInt8] = []
                var pieces = 0
                try UsageReportText.write(set, grouping: grouping) { joined.append(contentsOf: $0); pieces += 1 }
                #expect(String(decoding: joined, as: UTF8.self) == Self.plainTable(set, grouping), "\(name) \(grouping)")
                // The header and five pieces; a name that is not ASCII: one.
                #expect(pieces == (name.utf8.allSatisfy { $0 < 0x80 } ? 6 : 1), "\(name) \(grouping)")
            }
        }
    }

    /// A month report kept as owners × components (``UsageReport/Grid``, what ``UsageQuery``
    /// makes) prints exactly as `PlainTable` prints its rows: made whole, in two halves, and in
    /// pieces — boundaries inside an owner's components, an owner without a user, an empty user,
    /// names all ASCII, or wider in bytes than in characters on some rows only (a component,
    /// and one owner's resource), a grid beside plain rows and an empty grid.
    @Test func aGridReportIsThePlainTableOfItsRows() throws {
        func grid(owners: Int, period: String, odd: String) -> UsageReport {
            var g = UsageReport.Grid()
            g.components = ["billing", "cpu", odd, "mem"]
            for o in 0..<owners {
                g.owners.append(.init(resource: o == owners / 2 && odd != "gres/gpu" ? "ressurss_ø_\(o)" : "hpc_\(o % 97)",
                                      user: o % 7 == 0 ? nil : o % 11 == 0 ? "" : "u\(o % 13)"))
                for c in 0..<4 {
                    let v = Int128(o * 4 + c) * (c == 3 ? 1_000 : 1) - 50
                    g.natives.append(v * 60)
                    g.amounts.append(WaldurAmount(hundredths: v))
                }
            }
            return UsageReport(grid: g, period: period, observedUntil: [:])
        }
        let plain = UsageReport(rows: [.init(resource: "a_resource_name_wider_than_every_other", user: "ann", component: "cpu",
                                             period: "2026-12", native: 1, amount: WaldurAmount(hundredths: 7))],
                                period: "2026-12", observedUntil: [:])
        for odd in ["gres/gpu", "gres/gpü"] {
            let small = [grid(owners: 9, period: "2026-10", odd: odd), grid(owners: 0, period: "2026-11", odd: odd), plain]
            let large = [grid(owners: UsageReportText.rowsPerPiece / 2 + 333, period: "2026-10", odd: odd), plain,
                         grid(owners: UsageReportText.rowsPerPiece / 3 + 5, period: "2026-12", odd: odd)]
            #expect(small[0].rows.count == 36 && small[1].rows.isEmpty)
            #expect(small[0].rows[9] == .init(resource: "hpc_2", user: "u2", component: "cpu", period: "2026-10",
                                              native: (9 - 50) * 60, amount: WaldurAmount(hundredths: 9 - 50)))
            for (name, set) in [("small", small), ("large", large)] {
                for grouping in UsageReport.Grouping.allCases {
                    let want = Self.plainTable(set, grouping)
                    #expect(String(decoding: UsageReportText.table(set, grouping: grouping), as: UTF8.self) == want, "\(odd) \(name) \(grouping)")
                    var joined: [UInt8] = []
                    try UsageReportText.write(set, grouping: grouping) { joined.append(contentsOf: $0) }
                    #expect(String(decoding: joined, as: UTF8.self) == want, "\(odd) \(name) \(grouping) in pieces")
                }
            }
        }
    }
}
