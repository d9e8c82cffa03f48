/// `reckon usage` as an aligned text table: exactly what ``PlainTable`` renders for the report's
/// rows (same headers, widths, right-aligned amounts, no trailing spaces), written straight from
/// the rows. With `--by user` a quarter is over a hundred thousand rows; building a `[String]`
/// per row for `PlainTable` was a third of the command's time.
public enum UsageReportText {
    public static func headers(_ grouping: UsageReport.Grouping) -> [String] {
        grouping == .user ? ["RESOURCE", "USER", "COMPONENT", "PERIOD", "AMOUNT"] : ["RESOURCE", "COMPONENT", "PERIOD", "AMOUNT"]
    }

    /// The table of every row of `reports`, in order, without a final newline.
    ///
    /// Names are nearly always ASCII, where a cell's width is its byte count, known without a
    /// look at the bytes. The table is first made on that presumption; if the result holds a
    /// byte outside ASCII (some name does, so the presumption may have been wrong), it is made
    /// again measuring every cell in characters.
    public static func table(_ reports: [UsageReport], grouping: UsageReport.Grouping) -> [UInt8] {
        let fast = table(reports, grouping: grouping, width: { $0.utf8.count })
        let ascii = fast.withUnsafeBytes { raw -> Bool in
            var all: UInt64 = 0
            var i = 0
            while i + 8 <= raw.count { all |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
            while i < raw.count { all |= UInt64(raw[i]); i += 1 }
            return all & 0x8080_8080_8080_8080 == 0
        }
        return ascii ? fast : table(reports, grouping: grouping, width: PlainTable.width)
    }

    /// The table with each text cell `width` columns wide.
    static func table(_ reports: [UsageReport], grouping: UsageReport.Grouping, width: (String) -> Int) -> [UInt8] {
        let byUser = grouping == .user
        let heads = headers(grouping)
        let columns = heads.count
        var widths = heads.map(width)
        // The amounts' text, one after another (ASCII: a byte is a column).
        var amounts: [UInt8] = []
        var amountEnds: [Int] = []
        var count = 0
        amountEnds.reserveCapacity(reports.reduce(0) { $0 + $1.rows.count })
        for report in reports {
            for row in report.rows {
                let before = amounts.count
                row.amount.appendText(to: &amounts)
                amountEnds.append(amounts.count)
                var i = 0
                widths[i] = max(widths[i], width(row.resource)); i += 1
                if byUser { widths[i] = max(widths[i], width(row.user ?? "")); i += 1 }
                widths[i] = max(widths[i], width(row.component)); i += 1
                widths[i] = max(widths[i], width(row.period)); i += 1
                widths[i] = max(widths[i], amounts.count - before)
                count += 1
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((count + 2) * (widths.reduce(0, +) + 2 * columns + 1))
        /// A left-aligned cell (then its padding), after the two spaces that separate columns.
        func left(_ s: String, _ column: Int) {
            if column > 0 { out.append(32); out.append(32) }
            out.append(contentsOf: s.utf8)
            out.append(contentsOf: repeatElement(32, count: max(0, widths[column] - width(s))))
        }
        /// The right-aligned last cell (ASCII), then the line's trailing spaces trimmed, as PlainTable does.
        func right(_ s: ArraySlice<UInt8>, lineStart: Int) {
            out.append(32); out.append(32)
            out.append(contentsOf: repeatElement(32, count: max(0, widths[columns - 1] - s.count)))
            out.append(contentsOf: s)
            while out.count > lineStart && out.last == 32 { out.removeLast() }
        }
        var start = out.count
        for (i, h) in heads.dropLast().enumerated() { left(h, i) }
        right(ArraySlice(heads[columns - 1].utf8), lineStart: start)
        out.append(10)
        start = out.count
        for i in 0..<(columns - 1) { left(String(repeating: "-", count: widths[i]), i) }
        right(ArraySlice(repeating: UInt8(ascii: "-"), count: widths[columns - 1]), lineStart: start)
        var n = 0
        for report in reports {
            for row in report.rows {
                out.append(10)
                start = out.count
                var i = 0
                left(row.resource, i); i += 1
                if byUser { left(row.user ?? "", i); i += 1 }
                left(row.component, i); i += 1
                left(row.period, i)
                right(amounts[(n == 0 ? 0 : amountEnds[n - 1])..<amountEnds[n]], lineStart: start)
                n += 1
            }
        }
        return out
    }
}
