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
    /// no trailing spaces. Built as bytes in one buffer: `reckon usage --by user` prints tens of
    /// thousands of rows.
    public func render() -> String {
        var widths = headers.map(Self.width)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], Self.width(c)) } }
        let right = widths.indices.map { rightAligned.contains($0) }
        var out: [UInt8] = []
        out.reserveCapacity((rows.count + 2) * (widths.reduce(0, +) + 2 * widths.count + 1))
        func line(_ cells: [String]) {
            let start = out.count
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(32); out.append(32) }
                let pad = i < widths.count ? max(0, widths[i] - Self.width(c)) : 0
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
        line(headers)
        out.append(10)
        line(widths.map { String(repeating: "-", count: $0) })
        for r in rows {
            out.append(10)
            line(r)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A cell's width in characters (its byte count when it is ASCII, which is nearly always).
    static func width(_ s: String) -> Int {
        let n = s.utf8.count
        return s.utf8.allSatisfy({ $0 < 0x80 }) ? n : s.count
    }
}
