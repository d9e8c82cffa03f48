import Dispatch

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

    /// The table with each text cell `width` columns wide. A large table is made in two halves
    /// on two threads (each half's amounts and widths, then each half's lines with the widths
    /// of the whole), joined in order: the same bytes as one pass makes.
    static func table(_ reports: [UsageReport], grouping: UsageReport.Grouping, width: (String) -> Int) -> [UInt8] {
        let heads = headers(grouping)
        let columns = heads.count
        let total = reports.reduce(0) { $0 + $1.rows.count }
        let parts = total >= parallelRows ? 2 : 1
        var pieces = [Piece](repeating: Piece(), count: parts)
        let bounds = (0...parts).map { total * $0 / parts }
        // Each thread writes its own piece only; `width` is a pure function of its text.
        nonisolated(unsafe) let measureWidth = width
        pieces.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let slots = out
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                slots[p].measure(reports, from: bounds[p], to: bounds[p + 1], byUser: grouping == .user, columns: columns, width: measureWidth)
            }
        }
        var widths = heads.map(width)
        for piece in pieces { for c in 0..<columns { widths[c] = max(widths[c], piece.widths[c]) } }
        var head: [UInt8] = []
        var start = 0
        for (i, h) in heads.dropLast().enumerated() { Piece.left(h, i, widths: widths, width: width, into: &head) }
        Piece.right(ArraySlice(heads[columns - 1].utf8), widths: widths, lineStart: start, into: &head)
        head.append(10)
        start = head.count
        for i in 0..<(columns - 1) { Piece.left(String(repeating: "-", count: widths[i]), i, widths: widths, width: width, into: &head) }
        Piece.right(ArraySlice(repeating: UInt8(ascii: "-"), count: widths[columns - 1]), widths: widths, lineStart: start, into: &head)
        let finalWidths = widths
        pieces.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let slots = out
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                slots[p].render(reports, from: bounds[p], to: bounds[p + 1], byUser: grouping == .user, widths: finalWidths, width: measureWidth)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(head.count + pieces.reduce(0) { $0 + $1.text.count })
        out.append(contentsOf: head)
        for piece in pieces { out.append(contentsOf: piece.text) }
        return out
    }

    /// From this many rows on, the table is made on two threads.
    static let parallelRows = 20_000

    /// The rows `[from, to)` of the reports taken one after another: their amounts' text and
    /// widths, then their lines.
    private struct Piece {
        var amounts: [UInt8] = []
        var amountEnds: [Int] = []
        var widths: [Int] = []
        var text: [UInt8] = []

        /// Calls `body` with each row of `[from, to)`, in order.
        static func forEachRow(_ reports: [UsageReport], from: Int, to: Int, _ body: (UsageReport.Row) -> Void) {
            var skip = from
            var left = to - from
            for report in reports where left > 0 {
                let n = report.rows.count
                if skip >= n { skip -= n; continue }
                let end = min(n, skip + left)
                for i in skip..<end { body(report.rows[i]) }
                left -= end - skip
                skip = 0
            }
        }

        mutating func measure(_ reports: [UsageReport], from: Int, to: Int, byUser: Bool, columns: Int, width: (String) -> Int) {
            var amounts: [UInt8] = []
            var ends: [Int] = []
            ends.reserveCapacity(to - from)
            var w = [Int](repeating: 0, count: columns)
            Self.forEachRow(reports, from: from, to: to) { row in
                let before = amounts.count
                row.amount.appendText(to: &amounts)
                ends.append(amounts.count)
                var i = 0
                w[i] = max(w[i], width(row.resource)); i += 1
                if byUser { w[i] = max(w[i], width(row.user ?? "")); i += 1 }
                w[i] = max(w[i], width(row.component)); i += 1
                w[i] = max(w[i], width(row.period)); i += 1
                w[i] = max(w[i], amounts.count - before)
            }
            self.amounts = amounts
            amountEnds = ends
            widths = w
        }

        mutating func render(_ reports: [UsageReport], from: Int, to: Int, byUser: Bool, widths: [Int], width: (String) -> Int) {
            var out: [UInt8] = []
            out.reserveCapacity((to - from) * (widths.reduce(0, +) + 2 * widths.count + 1))
            var n = 0
            let amounts = self.amounts, ends = amountEnds
            Self.forEachRow(reports, from: from, to: to) { row in
                out.append(10)
                let start = out.count
                var i = 0
                Self.left(row.resource, i, widths: widths, width: width, into: &out); i += 1
                if byUser { Self.left(row.user ?? "", i, widths: widths, width: width, into: &out); i += 1 }
                Self.left(row.component, i, widths: widths, width: width, into: &out); i += 1
                Self.left(row.period, i, widths: widths, width: width, into: &out)
                Self.right(amounts[(n == 0 ? 0 : ends[n - 1])..<ends[n]], widths: widths, lineStart: start, into: &out)
                n += 1
            }
            text = out
        }

        /// A left-aligned cell (then its padding), after the two spaces that separate columns.
        @inline(__always)
        static func left(_ s: String, _ column: Int, widths: [Int], width: (String) -> Int, into out: inout [UInt8]) {
            if column > 0 { out.append(32); out.append(32) }
            out.append(contentsOf: s.utf8)
            out.append(contentsOf: repeatElement(32, count: max(0, widths[column] - width(s))))
        }

        /// The right-aligned last cell (ASCII), then the line's trailing spaces trimmed, as PlainTable does.
        @inline(__always)
        static func right(_ s: ArraySlice<UInt8>, widths: [Int], lineStart: Int, into out: inout [UInt8]) {
            out.append(32); out.append(32)
            out.append(contentsOf: repeatElement(32, count: max(0, widths[widths.count - 1] - s.count)))
            out.append(contentsOf: s)
            while out.count > lineStart && out.last == 32 { out.removeLast() }
        }
    }
}
