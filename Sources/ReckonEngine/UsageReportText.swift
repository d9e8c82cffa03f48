import Dispatch
import ReckonCore

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
    /// look at the bytes. The rows are first measured on that presumption; if a printed name
    /// holds a byte outside ASCII, they are measured again in characters.
    public static func table(_ reports: [UsageReport], grouping: UsageReport.Grouping) -> [UInt8] {
        let total = reports.reduce(0) { $0 + $1.rows.count }
        let parts = total >= parallelRows ? 2 : 1
        var layout = Layout(reports, grouping: grouping, width: .bytes, parts: parts)
        if !layout.ascii { layout = Layout(reports, grouping: grouping, width: .characters, parts: parts) }
        return layout.table(reports)
    }

    /// How a text cell's width is measured.
    enum CellWidth {
        /// Its byte count: right when it is ASCII.
        case bytes
        /// Its characters, as ``PlainTable`` counts them.
        case characters

        /// The width of `s`.
        @inline(__always)
        func of(_ s: String) -> Int { self == .bytes ? s.utf8.count : PlainTable.width(s) }
    }

    /// A table's rows measured: cut into pieces of consecutive rows, each piece's widths
    /// measured on a thread of its own (two at a time), then the widths of the whole and each
    /// piece's bytes.
    ///
    /// Every line's last cell is an amount, right-aligned and never empty or ending in a space,
    /// so `PlainTable`'s trimming of trailing spaces never applies to a row, and a row's bytes
    /// are known before it is written: the widths plus the separators plus what its cells have
    /// more in bytes than in width. So the whole table can be allocated once at its final size
    /// and each piece written into its own part of it, or pieces handed over one by one.
    private struct Layout {
        let grouping: UsageReport.Grouping
        let width: CellWidth
        let heads: [String]
        var pieces: [Piece]
        /// Piece `p` is rows `[bounds[p], bounds[p + 1])`.
        let bounds: [Int]
        let widths: [Int]
        /// Piece `p`'s bytes: its rows' lines, each after a newline.
        let sizes: [Int]
        /// Whether every printed name is ASCII (the headers are).
        var ascii: Bool { pieces.allSatisfy(\.ascii) }

        init(_ reports: [UsageReport], grouping: UsageReport.Grouping, width: CellWidth, parts: Int) {
            self.grouping = grouping
            self.width = width
            heads = headers(grouping)
            let columns = heads.count
            let total = reports.reduce(0) { $0 + $1.rows.count }
            let bounds = (0...parts).map { total * $0 / parts }
            var pieces = [Piece](repeating: Piece(), count: parts)
            pieces.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let slots = out   // each thread measures its own piece only
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    slots[p].measure(reports, from: bounds[p], to: bounds[p + 1], byUser: grouping == .user, columns: columns, width: width)
                }
            }
            var widths = heads.map(width.of)
            for piece in pieces { for c in 0..<columns { widths[c] = max(widths[c], piece.widths[c]) } }
            // A row: its newline, the widths, two spaces between columns, and its cells' extra bytes.
            let rowBytes = 1 + widths.reduce(0, +) + 2 * (columns - 1)
            sizes = pieces.indices.map { (bounds[$0 + 1] - bounds[$0]) * rowBytes + pieces[$0].extraBytes }
            self.pieces = pieces
            self.bounds = bounds
            self.widths = widths
        }

        /// The two header lines.
        var header: [UInt8] { UsageReportText.header(heads, widths: widths, width: width) }

        /// Writes pieces `first ..< first + targets.count` into `targets`, one thread each
        /// (each writes its own target only, of the piece's ``sizes`` bytes).
        func render(_ reports: [UsageReport], pieces first: Int, into targets: [UnsafeMutablePointer<UInt8>]) {
            pieces.withUnsafeBufferPointer { all in
                nonisolated(unsafe) let slots = all
                nonisolated(unsafe) let out = targets
                DispatchQueue.concurrentPerform(iterations: targets.count) { j in
                    let p = first + j
                    slots[p].render(reports, from: bounds[p], to: bounds[p + 1], byUser: grouping == .user, widths: widths,
                                    width: width, into: out[j], bytes: sizes[p])
                }
            }
        }

        /// The whole table in one array of its final size.
        func table(_ reports: [UsageReport]) -> [UInt8] {
            let head = header
            var starts = [head.count]
            for size in sizes { starts.append(starts[starts.count - 1] + size) }
            return [UInt8](unsafeUninitializedCapacity: starts[starts.count - 1]) { buffer, count in
                guard let base = buffer.baseAddress else { count = 0; return }
                head.withUnsafeBufferPointer { h in if let from = h.baseAddress { base.update(from: from, count: h.count) } }
                render(reports, pieces: 0, into: sizes.indices.map { base + starts[$0] })
                count = starts[starts.count - 1]
            }
        }
    }

    /// The two header lines (names, then dashes) and the newline between them; no trailing spaces.
    private static func header(_ heads: [String], widths: [Int], width: CellWidth) -> [UInt8] {
        var out: [UInt8] = []
        func line(_ cells: [String], _ cellWidth: (Int) -> Int) {
            let start = out.count
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(32); out.append(32) }
                let pad = repeatElement(UInt8(32), count: max(0, widths[i] - cellWidth(i)))
                if i == cells.count - 1 { out.append(contentsOf: pad); out.append(contentsOf: c.utf8) } else {
                    out.append(contentsOf: c.utf8); out.append(contentsOf: pad)
                }
            }
            while out.count > start && out.last == 32 { out.removeLast() }
        }
        line(heads) { width.of(heads[$0]) }
        out.append(10)
        line(widths.map { String(repeating: "-", count: $0) }) { widths[$0] }
        return out
    }

    /// From this many rows on, the table is made on two threads.
    static let parallelRows = 20_000

    /// Rows per piece when the table is handed over in pieces (``write(_:grouping:to:)``): about
    /// 290 KB of typical lines. (16,384 rows a piece took ~330 more fresh pages for three months
    /// of 200,000 jobs by user, and a write to standard output costs far less than their faults.)
    static let rowsPerPiece = 4_096

    /// ``table(_:grouping:)``'s bytes handed to `sink` in order, a piece at a time: the header,
    /// then pieces of ``rowsPerPiece`` rows, two at a time made on two threads into two buffers
    /// used again for the next two — instead of one buffer of the whole table, each of whose
    /// pages costs a page fault when first written (~1,500 for three months of 200,000 jobs by
    /// user). The widths are measured over every piece first. When a name is not ASCII (its
    /// width is not its byte count) the table is made whole, as `table` makes it, and handed over
    /// at once.
    public static func write(_ reports: [UsageReport], grouping: UsageReport.Grouping,
                             to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let total = reports.reduce(0) { $0 + $1.rows.count }
        let parts = (total + rowsPerPiece - 1) / rowsPerPiece
        let layout = parts >= 2 ? Layout(reports, grouping: grouping, width: .bytes, parts: parts) : nil
        guard let layout, layout.ascii else {
            return try table(reports, grouping: grouping).withUnsafeBytes { try sink($0) }
        }
        try layout.header.withUnsafeBytes { try sink($0) }
        let capacity = max(1, layout.sizes.max() ?? 1)
        let buffers = [UnsafeMutablePointer<UInt8>.allocate(capacity: capacity), UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)]
        defer { for b in buffers { b.deallocate() } }
        var p = 0
        while p < parts {
            let n = min(buffers.count, parts - p)
            layout.render(reports, pieces: p, into: Array(buffers[..<n]))
            for j in 0..<n { try sink(UnsafeRawBufferPointer(start: buffers[j], count: layout.sizes[p + j])) }
            p += n
        }
    }

    /// The rows `[from, to)` of the reports taken one after another: their widths and extra
    /// bytes, then their lines.
    private struct Piece {
        var widths: [Int] = []
        /// What the text cells of the rows have more in bytes than in width (0 for ASCII).
        var extraBytes = 0
        /// Whether every text cell of the rows is ASCII.
        var ascii = true

        /// Calls `body` with each report holding rows of `[from, to)` (the reports' rows taken
        /// one after another) and the part of its own rows `[lo, hi)` that falls there, in order.
        static func forEachSpan(_ reports: [UsageReport], from: Int, to: Int, _ body: (UsageReport, Int, Int) -> Void) {
            var skip = from
            var left = to - from
            for report in reports where left > 0 {
                let n = report.rows.count
                if skip >= n { skip -= n; continue }
                let end = min(n, skip + left)
                body(report, skip, end)
                left -= end - skip
                skip = 0
            }
        }

        /// The widest cell of each column (an amount's text is widest at the largest magnitude
        /// of its sign), and the extra bytes. A grid's owner names are measured once per owner,
        /// its component names and the period once per report; what they add to the extra
        /// bytes is counted for each row they are printed on.
        mutating func measure(_ reports: [UsageReport], from: Int, to: Int, byUser: Bool, columns: Int, width: CellWidth) {
            var w = [Int](repeating: 0, count: columns)
            var extra = 0
            var bits: UInt8 = 0   // every byte of every text cell, or-ed: ASCII while the top bit is clear
            var largest: Int128 = 0, smallest: Int128 = 0
            let user = byUser ? 1 : -1, component = byUser ? 2 : 1, period = component + 1
            Self.forEachSpan(reports, from: from, to: to) { report, lo, hi in
                switch report.storage {
                case .rows(let rows):
                    rows.withUnsafeBufferPointer { rows in
                        guard let base = rows.baseAddress else { return }
                        for i in lo..<hi {   // lent in place: a copy of a row would retain and release its four texts
                            let row = base + i
                            Self.measure(row.pointee.resource, 0, times: 1, widths: &w, extra: &extra, bits: &bits, width: width)
                            if byUser { Self.measure(row.pointee.user ?? "", user, times: 1, widths: &w, extra: &extra, bits: &bits, width: width) }
                            Self.measure(row.pointee.component, component, times: 1, widths: &w, extra: &extra, bits: &bits, width: width)
                            Self.measure(row.pointee.period, period, times: 1, widths: &w, extra: &extra, bits: &bits, width: width)
                            let h = row.pointee.amount.hundredths
                            largest = max(largest, h)
                            smallest = min(smallest, h)
                        }
                    }
                case .grid(let grid):
                    let c = grid.components.count
                    guard hi > lo, c > 0 else { return }
                    for o in (lo / c)...((hi - 1) / c) {
                        let times = min(hi, (o + 1) * c) - max(lo, o * c)   // its rows in the span
                        Self.measure(grid.owners[o].resource, 0, times: times, widths: &w, extra: &extra, bits: &bits, width: width)
                        if byUser { Self.measure(grid.owners[o].user ?? "", user, times: times, widths: &w, extra: &extra, bits: &bits, width: width) }
                    }
                    for k in 0..<c {
                        // Rows of component k in the span: i in [lo, hi) with i % c == k.
                        let times = (hi - 1 - k + c) / c - (lo - 1 - k + c) / c
                        if times > 0 { Self.measure(grid.components[k], component, times: times, widths: &w, extra: &extra, bits: &bits, width: width) }
                    }
                    Self.measure(report.period, period, times: hi - lo, widths: &w, extra: &extra, bits: &bits, width: width)
                    for h in grid.amounts[lo..<hi] {
                        largest = max(largest, h.hundredths)
                        smallest = min(smallest, h.hundredths)
                    }
                }
            }
            w[columns - 1] = max(WaldurAmount(hundredths: largest).textCount, WaldurAmount(hundredths: smallest).textCount)
            widths = w
            extraBytes = extra
            ascii = bits < 0x80
        }

        /// Writes the rows' lines, each after a newline, into `bytes` bytes at `out` — exactly
        /// what they take (``measure(_:from:to:byUser:columns:width:)``'s sizes with `widths`).
        func render(_ reports: [UsageReport], from: Int, to: Int, byUser: Bool, widths: [Int], width: CellWidth,
                    into out: UnsafeMutablePointer<UInt8>, bytes: Int) {
            out.initialize(repeating: 32, count: bytes)
            var at = 0
            Self.forEachSpan(reports, from: from, to: to) { report, lo, hi in
                switch report.storage {
                case .rows(let rows):
                    rows.withUnsafeBufferPointer { rows in
                        guard let base = rows.baseAddress else { return }
                        for i in lo..<hi {
                            let row = base + i
                            Self.line(row.pointee.resource, row.pointee.user, row.pointee.component, row.pointee.period, row.pointee.amount,
                                      byUser: byUser, widths: widths, width: width, into: out, at: &at, bytes: bytes)
                        }
                    }
                case .grid(let grid):
                    Self.render(grid, period: report.period, lo, hi, byUser: byUser, widths: widths, width: width,
                                into: out, at: &at, bytes: bytes)
                }
            }
            precondition(at == bytes, "the usage table's rows are shorter than measured")
        }

        /// A grid's rows `[lo, hi)`, owner by owner: each owner's names are taken as bytes once for
        /// all its rows, and the component names and the period once for the span (taking a
        /// `String` out of an array costs a count of a reference, up and down, for each).
        static func render(_ grid: UsageReport.Grid, period: String, _ lo: Int, _ hi: Int, byUser: Bool, widths: [Int], width: CellWidth,
                           into out: UnsafeMutablePointer<UInt8>, at: inout Int, bytes: Int) {
            let c = grid.components.count
            guard c > 0, hi > lo else { return }
            // The component names end to end (name k is nameBytes[nameEnds[k] - count ..< nameEnds[k]]),
            // so that a row reads its name without taking a reference to an inner array.
            var nameBytes: [UInt8] = [], nameEnds: [Int] = []
            for name in grid.components { nameBytes.append(contentsOf: name.utf8); nameEnds.append(nameBytes.count) }
            let user = byUser ? 1 : -1, component = byUser ? 2 : 1, last = widths.count - 1
            // What each cell advances past its bytes: its padding and the two spaces after it.
            let namePads = grid.components.map { widths[component] - width.of($0) + 2 }
            let periodBytes = Array(period.utf8), periodPad = widths[component + 1] - width.of(period) + 2
            nameBytes.withUnsafeBufferPointer { names in
                periodBytes.withUnsafeBufferPointer { periodText in
                    grid.amounts.withUnsafeBufferPointer { amounts in
                        var i = lo
                        while i < hi {
                            let o = i / c, end = min(hi, (o + 1) * c)
                            var resource = grid.owners[o].resource, who = byUser ? grid.owners[o].user ?? "" : ""
                            let resourcePad = widths[0] - width.of(resource) + 2, userPad = byUser ? widths[user] - width.of(who) + 2 : 0
                            resource.withUTF8 { r in
                                who.withUTF8 { u in
                                    for k in i..<end {
                                        precondition(at < bytes, "the usage table has more rows than measured")
                                        out[at] = 10
                                        at += 1
                                        put(r, pad: resourcePad, into: out, at: &at, bytes: bytes)
                                        if byUser { put(u, pad: userPad, into: out, at: &at, bytes: bytes) }
                                        let n = k % c, from = n == 0 ? 0 : nameEnds[n - 1]
                                        put(UnsafeBufferPointer(rebasing: names[from..<nameEnds[n]]), pad: namePads[n], into: out, at: &at, bytes: bytes)
                                        put(periodText, pad: periodPad, into: out, at: &at, bytes: bytes)
                                        at += widths[last]
                                        precondition(at <= bytes, "a usage table row is longer than measured")
                                        amounts[k].writeText(endingAt: out + at)
                                    }
                                }
                            }
                            i = end
                        }
                    }
                }
            }
        }

        /// Copies `b` to `at` and moves past it and `pad` more bytes (spaces already there).
        @inline(__always)
        static func put(_ b: UnsafeBufferPointer<UInt8>, pad: Int, into out: UnsafeMutablePointer<UInt8>, at: inout Int, bytes: Int) {
            let count = b.count
            precondition(at + count <= bytes, "a usage table row is longer than measured")
            if let from = b.baseAddress { ByteCursor.copy(from, count, to: out + at) }
            at += count + pad
        }

        /// One line at `at`, after its newline: its cells, the amount right-aligned (it ends where
        /// the line does, and is no wider than its column).
        @inline(__always)
        static func line(_ resource: String, _ user: String?, _ component: String, _ period: String, _ amount: WaldurAmount,
                         byUser: Bool, widths: [Int], width: CellWidth, into out: UnsafeMutablePointer<UInt8>, at: inout Int, bytes: Int) {
            precondition(at < bytes, "the usage table has more rows than measured")
            out[at] = 10
            at += 1
            var i = 0
            left(resource, i, widths: widths, width: width, into: out, at: &at, bytes: bytes); i += 1
            if byUser { left(user ?? "", i, widths: widths, width: width, into: out, at: &at, bytes: bytes); i += 1 }
            left(component, i, widths: widths, width: width, into: out, at: &at, bytes: bytes); i += 1
            left(period, i, widths: widths, width: width, into: out, at: &at, bytes: bytes)
            at += widths[widths.count - 1]
            precondition(at <= bytes, "a usage table row is longer than measured")
            amount.writeText(endingAt: out + at)
        }

        /// A text cell printed on `times` rows measured: the widest of its column so far, and
        /// its bytes beyond its width on each of those rows.
        @inline(__always)
        static func measure(_ s: String, _ column: Int, times: Int, widths: inout [Int], extra: inout Int, bits: inout UInt8, width: CellWidth) {
            let n = width.of(s)
            widths[column] = max(widths[column], n)
            extra += (s.utf8.count - n) * times
            let scanned: Void? = s.utf8.withContiguousStorageIfAvailable { u in for b in u { bits |= b } }
            if scanned == nil { for b in s.utf8 { bits |= b } }
        }

        /// A left-aligned cell written at `at` (on spaces), which then moves past its padding and
        /// the two spaces before the next column.
        @inline(__always)
        static func left(_ s: String, _ column: Int, widths: [Int], width: CellWidth,
                         into out: UnsafeMutablePointer<UInt8>, at: inout Int, bytes: Int) {
            let count = s.utf8.count
            precondition(at + count <= bytes, "a usage table row is longer than measured")
            let copied: Void? = s.utf8.withContiguousStorageIfAvailable { u in
                if let b = u.baseAddress { ByteCursor.copy(b, count, to: out + at) }
            }
            if copied == nil { for (k, b) in s.utf8.enumerated() { out[at + k] = b } }   // not contiguous: never on Linux
            at += count + widths[column] - width.of(s) + 2
        }
    }
}
