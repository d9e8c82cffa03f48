/// One record of the persisted usage table: the closed native usage of one owner (account,
/// user) in one billing month, every TRES of it in one value.
///
/// Key: the month ordinal (4 bytes big-endian), the account, a zero byte, the user — a
/// ``UsageKey/bytes`` cut before its last zero byte. Value: the owner-month's cells in the byte
/// order of their TRES names, each a varint name length, the name, and the amount (16 bytes,
/// ``StoreBytes/i128(_:)``); cells that sum to zero are left out, and a record with none is
/// removed. A cell is still read as its ``UsageKey/bytes`` (record key, zero byte, TRES name),
/// and the table lists cells in that order, since a record key sorts as its cells' keys do.
///
/// One record per owner-month instead of one per cell: an import of the generated 200,000 rows
/// holds 71,018 cells in 15,104 owner-months, and each put into LMDB costs a B-tree descent and
/// its bookkeeping, on the one thread that finishes an import.
public enum UsageRecord {
    /// Where the owner part (the record key) of a cell key ends: before the second zero byte
    /// after the month, the one that starts the TRES name. Nil for a key without both.
    public static func ownerLength(ofCellKey key: UnsafeRawBufferPointer) -> Int? {
        guard key.count > 4 else { return nil }
        var zeros = 0
        for i in 4..<key.count where key[i] == 0 {
            zeros += 1
            if zeros == 2 { return i }
        }
        return nil
    }

    /// Calls `body` with each cell of a record — its ``UsageKey/bytes`` (built in `scratch`,
    /// lent for the call) and amount — in the order of the cell keys; throws when the value is
    /// not a well-formed record.
    public static func forEachCell(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, scratch: inout [UInt8],
                                   _ body: (UnsafeRawBufferPointer, Int128) throws -> Void) throws {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: key)
        scratch.append(0)
        let ownerEnd = scratch.count
        var r = ByteReader(value)
        while !r.isAtEnd {
            guard let tres = r.stringBytes(), value.count - r.offset >= 16 else { throw damaged(key) }
            scratch.removeSubrange(ownerEnd...)
            scratch.append(contentsOf: tres)
            guard let amount = StoreBytes.i128(UnsafeRawBufferPointer(rebasing: value[r.offset..<(r.offset + 16)])) else { throw damaged(key) }
            r.skip(16)
            try scratch.withUnsafeBytes { try body($0, amount) }
        }
    }

    static func damaged(_ key: UnsafeRawBufferPointer) -> EventStoreError {
        .corrupt("undecodable usage record (\(key.count)-byte key): a TRES name or amount runs past its end")
    }

    /// Builds a record's value from cells given in the byte order of their TRES names.
    public struct Builder {
        public private(set) var bytes: [UInt8] = []
        public var isEmpty: Bool { bytes.isEmpty }

        public init() {}

        /// Appends a cell (after every cell whose TRES name sorts before `tres`); a zero amount is left out.
        public mutating func add(tres: UnsafeRawBufferPointer, amount: Int128) {
            guard amount != 0 else { return }
            var n = tres.count
            while n >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: n) | 0x80); n >>= 7 }
            bytes.append(UInt8(n))
            bytes.append(contentsOf: tres.assumingMemoryBound(to: UInt8.self))
            let u = UInt128(bitPattern: amount)
            withUnsafeBytes(of: (UInt64(truncatingIfNeeded: u >> 64).bigEndian, UInt64(truncatingIfNeeded: u).bigEndian)) {
                bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self))
            }
        }

        public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
    }

    /// The cells of a record as (TRES name bytes, amount), in the value's order.
    public static func cells(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> [([UInt8], Int128)] {
        var out: [([UInt8], Int128)] = []
        var scratch: [UInt8] = []
        try forEachCell(key: key, value: value, scratch: &scratch) { cell, amount in
            out.append((Array(cell[(key.count + 1)...]), amount))
        }
        return out
    }
}
