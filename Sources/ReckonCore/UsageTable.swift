/// The persisted usage table (closed native usage per ``UsageKey``) as every reader must see
/// it, and the one place that writes sums into it.
///
/// An import defers the table: its batches append events and move the run index in their own
/// transactions, while their usage is summed in memory and written once, at the end (writing
/// the changed cells after every batch was a fifth of an import's work). Until then the meta
/// entry ``ProjectionMeta/usagePendingFrom`` names the first event whose usage the table does
/// not hold yet. Readers add that tail of the log, folded as replay folds it, so they always
/// see the usage of every committed event; a writer that finds the mark left behind (an
/// import killed before its end) folds the tail into the table and removes the mark.
public enum UsageTable {
    /// The first event whose usage the table does not hold, or nil when it holds them all.
    public static func pendingFrom(_ reader: any EventStoreReader) throws -> Sequence64? {
        guard let v = try reader.meta(ProjectionMeta.usagePendingFrom) else { return nil }
        guard let s = StoreBytes.u64(v) else { throw EventStoreError.corrupt("undecodable \(ProjectionMeta.usagePendingFrom)") }
        return s
    }

    /// The usage of the events from the mark on, folded as replay folds them; nil without a mark.
    public static func pendingUsage(_ reader: any EventStoreReader, settings: ProjectionSettings) throws -> UsageAccumulator? {
        guard let from = try pendingFrom(reader) else { return nil }
        var fold = ProjectionReplay(settings: settings)
        try reader.forEachEvent(from: from) { seq, buf in
            try fold.fold(seq, buf, reader: reader)
            return true
        }
        return fold.usage
    }

    /// The pending tail's cells under `prefix`, by key bytes (empty without a mark).
    private static func pendingCells(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings) throws -> [[UInt8]: Int128] {
        var pending: [[UInt8]: Int128] = [:]
        if let tail = try pendingUsage(reader, settings: settings) {
            tail.forEachCellKeyBytes { k, v in if k.starts(with: prefix) { pending[k, default: 0] += v } }
        }
        return pending
    }

    /// The record-key prefix of the records whose cells can start with `prefix` (a cell key
    /// prefix): `prefix` itself, or its owner part when it reaches into a TRES name.
    static func recordPrefix(_ prefix: [UInt8]) -> [UInt8] {
        prefix.withUnsafeBytes { p in UsageRecord.ownerLength(ofCellKey: p).map { Array(prefix[..<$0]) } } ?? prefix
    }

    /// Calls `body` with every stored cell under `prefix` — its key bytes, lent for the call, and
    /// its amount — in key order (``UsageRecord``: records in key order, a record's cells in its
    /// value's order).
    public static func forEachStoredCell(_ reader: any EventStoreReader, prefix: [UInt8],
                                  _ body: (UnsafeRawBufferPointer, Int128) throws -> Void) throws {
        var scratch: [UInt8] = []
        try reader.forEachEntryInPlace(in: .usage, prefix: recordPrefix(prefix)) { k, v in
            try UsageRecord.forEachCell(key: k, value: v, scratch: &scratch) { cell, amount in
                if prefix.count <= 4 || cell.starts(with: prefix) { try body(cell, amount) }
            }
            return true
        }
    }

    /// Visits the table's cells under `prefix` (key bytes, sum), the pending tail included;
    /// cells that sum to zero are skipped. No order is promised.
    public static func forEachCell(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings,
                                   _ body: ([UInt8], Int128) throws -> Void) throws {
        var pending = try pendingCells(reader, prefix: prefix, settings: settings)
        try forEachStoredCell(reader, prefix: prefix) { cell, amount in
            let k = Array(cell)
            let sum = amount + (pending.removeValue(forKey: k) ?? 0)
            if sum != 0 { try body(k, sum) }
        }
        for (k, v) in pending where v != 0 { try body(k, v) }
    }

    /// ``forEachCell(_:prefix:settings:_:)`` in key order, with `extra` cells merged in (the usage
    /// of running runs up to now, which the table never holds; in any order, a key possibly more
    /// than once). A cell is visited when its table and pending sum is not zero or when `extra`
    /// has its key, with all of them added — as a dictionary filled from `forEachCell` and then
    /// added to would hold it. Only the pending tail and `extra` (few cells) are sorted; the table
    /// is read in its own order. The key is lent: valid only during the call.
    public static func forEachCellInKeyOrder(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings,
                                             adding extra: [(key: [UInt8], amount: Int128)],
                                             _ body: (UnsafeRawBufferPointer, Int128) throws -> Void) throws {
        let others = try otherCells(reader, prefix: prefix, settings: settings, adding: extra)
        var next = 0
        /// A key found in the pending tail or `extra` only.
        func visitOther(_ o: OtherCell) throws {
            if o.inExtra || o.sum != 0 { try o.key.withUnsafeBytes { try body($0, o.sum) } }
        }
        try forEachStoredCell(reader, prefix: prefix) { k, amount in
            let kb = k.assumingMemoryBound(to: UInt8.self)
            while next < others.count, others[next].key.withUnsafeBufferPointer({ StoreBytes.precede($0, kb) }) {
                try visitOther(others[next]); next += 1
            }
            var sum = amount
            var inExtra = false
            if next < others.count, others[next].key.withUnsafeBufferPointer({ EventCodec.memoryEqual($0, kb) }) {
                sum += others[next].sum
                inExtra = others[next].inExtra
                next += 1
            }
            if sum != 0 || inExtra { try body(k, sum) }
        }
        while next < others.count { try visitOther(others[next]); next += 1 }
    }

    /// A cell of the pending tail or of the extra cells, merged by key.
    private struct OtherCell {
        var key: [UInt8]
        /// The pending and extra amounts of the key, added.
        var sum: Int128
        /// Whether the extra cells have the key.
        var inExtra: Bool
    }

    /// The cells under `prefix` of the pending tail and of `extra`, one per key, in key order.
    private static func otherCells(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings,
                                   adding extra: [(key: [UInt8], amount: Int128)]) throws -> [OtherCell] {
        var cells = try pendingCells(reader, prefix: prefix, settings: settings).map { OtherCell(key: $0.key, sum: $0.value, inExtra: false) }
        for e in extra where e.key.starts(with: prefix) { cells.append(OtherCell(key: e.key, sum: e.amount, inExtra: true)) }
        cells.sort { StoreBytes.precede($0.key, $1.key) }
        var merged: [OtherCell] = []
        merged.reserveCapacity(cells.count)
        for c in cells {
            if let last = merged.last, last.key.withUnsafeBufferPointer({ l in c.key.withUnsafeBufferPointer { EventCodec.memoryEqual(l, $0) } }) {
                merged[merged.count - 1].sum += c.sum
                merged[merged.count - 1].inExtra = last.inExtra || c.inExtra
            } else {
                merged.append(c)
            }
        }
        return merged
    }

    /// Adds `delta` to the table, record by record (``UsageRecord``; a cell that comes to zero
    /// is removed, and a record left with none). Into an empty table (a first import) the
    /// records go in key order, each appended without a descent
    /// (``EventStoreWriter/putAfterLast(_:in:key:)``) — unless a name holds a zero byte, whose
    /// keys do not sort as their parts do; otherwise each touched record is read, merged and
    /// written back.
    public static func add(_ delta: UsageAccumulator, in writer: any EventStoreWriter) throws {
        var empty = !delta.hasNameWithZeroByte
        if empty { try writer.forEachEntry(in: .usage, prefix: []) { _, _ in empty = false; return false } }
        if empty {
            try delta.forEachRecordInKeyOrder { key, value in try writer.putAfterLast(value, in: .usage, key: key) }
            return
        }
        var byRecord: [[UInt8]: [[UInt8]: Int128]] = [:]
        try delta.forEachCellKeyBytes { kb, amount in try group(kb, amount, into: &byRecord) }
        for (key, cells) in byRecord {
            var merged = cells
            let found = try writer.value(in: .usage, key: key)
            if let found {
                for (tres, amount) in try key.withUnsafeBytes({ k in try found.withUnsafeBytes { try UsageRecord.cells(key: k, value: $0) } }) {
                    merged[tres, default: 0] += amount
                }
            }
            try write(key: key, cells: merged, replacing: found != nil, in: writer)
        }
    }

    /// Writes one record with `cells` (by TRES name bytes; zero amounts left out), or removes
    /// it when none is left and it was there.
    static func write(key: [UInt8], cells: [[UInt8]: Int128], replacing: Bool, in writer: any EventStoreWriter) throws {
        var record = UsageRecord.Builder()
        for (tres, amount) in cells.sorted(by: { StoreBytes.precede($0.key, $1.key) }) {
            tres.withUnsafeBytes { record.add(tres: $0, amount: amount) }
        }
        if !record.isEmpty {
            try writer.put(record.bytes, in: .usage, key: key)
        } else if replacing {
            try writer.delete(in: .usage, key: key)
        }
    }

    /// Replaces the table's content with `cells` (by ``UsageKey``), as a rebuild does.
    public static func replace(with cells: [UsageKey: Int128], in writer: any EventStoreWriter) throws {
        try writer.clear(.usage)
        var byRecord: [[UInt8]: [[UInt8]: Int128]] = [:]
        for (k, v) in cells { try group(k.bytes, v, into: &byRecord) }
        for (key, cells) in byRecord { try write(key: key, cells: cells, replacing: false, in: writer) }
    }

    /// Adds a cell (its ``UsageKey/bytes`` and amount) to `records`: by record key, then by TRES name.
    static func group(_ cellKey: [UInt8], _ amount: Int128, into records: inout [[UInt8]: [[UInt8]: Int128]]) throws {
        guard let n = cellKey.withUnsafeBytes({ UsageRecord.ownerLength(ofCellKey: $0) }) else {
            throw EventStoreError.corrupt("a usage cell key without owner and TRES")
        }
        records[Array(cellKey[..<n]), default: [:]][Array(cellKey[(n + 1)...]), default: 0] += amount
    }

    /// Every stored cell (the pending tail not included), by ``UsageKey``.
    public static func storedCells(_ reader: any EventStoreReader) throws -> [UsageKey: Int128] {
        var out: [UsageKey: Int128] = [:]
        try forEachStoredCell(reader, prefix: []) { k, amount in
            guard let key = UsageKey(bytes: Array(k)) else { throw EventStoreError.corrupt("undecodable usage row") }
            out[key] = amount
        }
        return out
    }

    /// Marks the table as not holding the usage of events from `seq` on (kept if already set).
    public static func markPending(from seq: Sequence64, in writer: any EventStoreWriter) throws {
        if try pendingFrom(writer) == nil { try writer.setMeta(ProjectionMeta.usagePendingFrom, StoreBytes.u64(seq)) }
    }

    /// Writes the usage an import summed for its committed batches (exactly the tail since the
    /// mark) and removes the mark.
    public static func complete(with delta: UsageAccumulator, in writer: any EventStoreWriter) throws {
        try add(delta, in: writer)
        try writer.delete(in: .meta, key: Array(ProjectionMeta.usagePendingFrom.utf8))
    }

    /// Folds a left-behind tail into the table and removes the mark; returns whether there was one.
    @discardableResult
    public static func catchUp(in writer: any EventStoreWriter, settings: ProjectionSettings) throws -> Bool {
        guard let tail = try pendingUsage(writer, settings: settings) else { return false }
        try complete(with: tail, in: writer)
        return true
    }
}
