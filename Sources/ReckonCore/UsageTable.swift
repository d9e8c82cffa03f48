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

    /// Visits the table's cells under `prefix` (key bytes, sum), the pending tail included;
    /// cells that sum to zero are skipped. No order is promised.
    public static func forEachCell(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings,
                                   _ body: ([UInt8], Int128) throws -> Void) throws {
        var pending = try pendingCells(reader, prefix: prefix, settings: settings)
        try reader.forEachEntry(in: .usage, prefix: prefix) { k, v in
            guard let amount = StoreBytes.i128(v) else { throw EventStoreError.corrupt("undecodable usage row") }
            let sum = amount + (pending.removeValue(forKey: k) ?? 0)
            if sum != 0 { try body(k, sum) }
            return true
        }
        for (k, v) in pending where v != 0 { try body(k, v) }
    }

    /// ``forEachCell(_:prefix:settings:_:)`` in key order, with `extra` cells merged in (the usage
    /// of running runs up to now, which the table never holds). A cell is visited when its table
    /// and pending sum is not zero or when `extra` has its key, with all three added — as a
    /// dictionary filled from `forEachCell` and then added to would hold it. Only the pending tail
    /// and `extra` (few cells) are sorted; the table is read in its own order. The key is lent
    /// (from the memory map, in the LMDB store): valid only during the call.
    public static func forEachCellInKeyOrder(_ reader: any EventStoreReader, prefix: [UInt8], settings: ProjectionSettings,
                                             adding extra: [[UInt8]: Int128],
                                             _ body: (UnsafeRawBufferPointer, Int128) throws -> Void) throws {
        let pending = try pendingCells(reader, prefix: prefix, settings: settings)
        var others = Set(pending.keys)
        for k in extra.keys where k.starts(with: prefix) { others.insert(k) }
        let sorted = others.sorted { StoreBytes.precede($0, $1) }
        var next = 0
        /// A key found in the pending tail or `extra` only.
        func visitOther(_ k: [UInt8]) throws {
            let p = pending[k] ?? 0
            if let e = extra[k] { try k.withUnsafeBytes { try body($0, p + e) } } else if p != 0 { try k.withUnsafeBytes { try body($0, p) } }
        }
        try reader.forEachEntryInPlace(in: .usage, prefix: prefix) { k, v in
            guard let amount = StoreBytes.i128(v) else { throw EventStoreError.corrupt("undecodable usage row") }
            let kb = k.assumingMemoryBound(to: UInt8.self)
            while next < sorted.count, sorted[next].withUnsafeBufferPointer({ StoreBytes.precede($0, kb) }) {
                try visitOther(sorted[next]); next += 1
            }
            var sum = amount
            var inExtra = false
            if next < sorted.count, sorted[next].elementsEqual(kb) {
                let other = sorted[next]
                sum += pending[other] ?? 0
                if let e = extra[other] { inExtra = true; sum += e }
                next += 1
            }
            if sum != 0 || inExtra { try body(k, sum) }
            return true
        }
        while next < sorted.count { try visitOther(sorted[next]); next += 1 }
    }

    /// Adds `delta` to the table, cell by cell (a cell that comes to zero is removed). A new
    /// cell costs one B-tree descent (``EventStoreWriter/insertIfAbsent(_:in:key:)``; none in the
    /// LMDB store when it sorts after the table's last), a present one two; into an empty table
    /// (a first import) the cells go in key order, each appended without a descent
    /// (``EventStoreWriter/putAfterLast(_:in:key:)``) — unless a name holds a zero byte, whose
    /// keys do not sort as their parts do.
    public static func add(_ delta: UsageAccumulator, in writer: any EventStoreWriter) throws {
        var empty = !delta.hasNameWithZeroByte
        if empty { try writer.forEachEntry(in: .usage, prefix: []) { _, _ in empty = false; return false } }
        if empty {
            var value = [UInt8](repeating: 0, count: 16)   // one buffer for every cell's amount
            try delta.forEachCellKeyBytesInKeyOrder { kb, amount in
                StoreBytes.i128(amount, into: &value)
                try writer.putAfterLast(value, in: .usage, key: kb)
            }
            return
        }
        try delta.forEachCellKeyBytes { kb, amount in
            guard let found = try writer.insertIfAbsent(StoreBytes.i128(amount), in: .usage, key: kb) else { return }
            guard let current = StoreBytes.i128(found) else { throw EventStoreError.corrupt("undecodable usage row") }
            let n = current + amount
            if n == 0 { try writer.delete(in: .usage, key: kb) } else { try writer.put(StoreBytes.i128(n), in: .usage, key: kb) }
        }
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
