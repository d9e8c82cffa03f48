/// Plain aligned text tables for terminal output (numbers right-aligned).
public struct PlainTable {
    public var headers: [String]
    public var rows: [[String]] = []
    public var rightAligned: Set<Int> = []

    public init(headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The table: columns two spaces apart, each as wide as its widest cell (in characters),
    /// no trailing spaces.
    public func render() -> String { String(decoding: renderBytes(), as: UTF8.self) }

    /// ``render()`` as UTF-8 bytes, without a final newline. Built in one buffer, each cell's
    /// width measured once: `reckon usage --by user` prints tens of thousands of rows.
    public func renderBytes() -> [UInt8] {
        let columns = headers.count
        var widths = headers.map(Self.width)
        var cellWidths: [Int] = []
        cellWidths.reserveCapacity(rows.count * columns)
        var bytes = 0
        for r in rows {
            for (i, c) in r.enumerated() {
                let w = Self.width(c)
                bytes += c.utf8.count
                if i < columns { widths[i] = max(widths[i], w); cellWidths.append(w) }
            }
            for _ in r.count..<max(columns, r.count) { cellWidths.append(0) }
        }
        let right = widths.indices.map { rightAligned.contains($0) }
        var out: [UInt8] = []
        out.reserveCapacity((rows.count + 2) * (widths.reduce(0, +) + 2 * columns + 1) + bytes)
        func line(_ cells: [String], _ measured: (Int) -> Int) {
            let start = out.count
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(32); out.append(32) }
                let pad = i < columns ? max(0, widths[i] - measured(i)) : 0
                if i < right.count && right[i] {
                    out.append(contentsOf: repeatElement(32, count: pad))
                    out.append(contentsOf: c.utf8)
                } else {
                    out.append(contentsOf: c.utf8)
                    out.append(contentsOf: repeatElement(32, count: pad))
                }
            }
            while out.count > start && out.last == 32 { out.removeLast() }
        }
        line(headers) { Self.width(headers[$0]) }
        out.append(10)
        line(widths.map { String(repeating: "-", count: $0) }) { widths[$0] }
        for (n, r) in rows.enumerated() {
            out.append(10)
            let first = n * columns
            line(r) { first + $0 < cellWidths.count && $0 < columns ? cellWidths[first + $0] : 0 }
        }
        return out
    }

    /// A cell's width in characters (its byte count when it is ASCII, which is nearly always).
    static func width(_ s: String) -> Int {
        let utf8 = s.utf8
        let ascii = utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            var all: UInt8 = 0
            for b in bytes { all |= b }
            return all < 0x80
        } ?? utf8.allSatisfy { $0 < 0x80 }
        return ascii ? utf8.count : s.count
    }
}
