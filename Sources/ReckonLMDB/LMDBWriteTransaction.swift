import CLMDB
import ReckonCore

/// An ``EventStoreWriter`` over one LMDB write transaction: appends go to the end of the log
/// with `MDB_APPEND` under dense sequence numbers, table changes go beside them, and all of it
/// commits together or not at all.
///
/// It remembers the first failure LMDB reported, because LMDB then refuses to commit the
/// transaction: the store aborts it instead, and, when the failure was a full map, grows the
/// map and runs the write again.
final class LMDBWriteTransaction: LMDBReadTransaction, EventStoreWriter {
    /// The first error LMDB returned for a change; the transaction can only be aborted.
    private(set) var failure: EventStoreError?
    /// Whether a change found the map full (the store then grows the map and retries).
    private(set) var foundMapFull = false
    /// The last key of each table as far as this transaction knows it, by ``slot(_:)``: a key
    /// that sorts after it is new, and ``insertIfAbsent(_:in:key:)`` appends it instead of
    /// searching for it (run-index keys arrive in DBIndex order, which Slurm only increases).
    @exclusivity(unchecked) private var lastKeys = [LastKey](repeating: .unknown, count: StoreTable.allCases.count)
    /// The remembered last keys' bytes: one buffer of LMDB's largest key size per slot, refilled
    /// with a plain copy (an array refilled in place cost ~500 instructions a key, and this runs
    /// for every run and every usage cell of an import).
    private let lastKeyBuffer: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var lastKeyCounts = [Int](repeating: 0, count: StoreTable.allCases.count)
    private let lastKeyCapacity: Int

    override init(_ txn: OpaquePointer, environment: LMDBEnvironment) {
        lastKeyCapacity = max(environment.maxKeySize, 1)
        lastKeyBuffer = .allocate(capacity: lastKeyCapacity * StoreTable.allCases.count)
        super.init(txn, environment: environment)
    }

    deinit { lastKeyBuffer.deallocate() }

    /// The remembered last key of `slot` (valid while it is `.known` and not refilled).
    @inline(__always)
    private func lastKey(_ slot: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: lastKeyBuffer + slot * lastKeyCapacity, count: lastKeyCounts[slot])
    }

    private enum LastKey {
        case unknown
        case empty
        case known
    }

    @inline(__always)
    private func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(EventStoreError) {
        guard rc != 0 else { return }
        let error = failed(rc, operation())
        if rc == MDB_MAP_FULL { foundMapFull = true }
        if failure == nil { failure = error }
        throw error
    }

    func append(_ encoded: [UInt8]) throws(EventStoreError) -> Sequence64 {
        let r: Result<Sequence64, EventStoreError> = encoded.withUnsafeBytes { b in Result { () throws(EventStoreError) in try append(bytes: b) } }
        return try r.get()
    }

    /// The appends not yet put into the log, grouped into one record (``LMDBEventRecord``).
    private let block = LMDBEventBlockBuilder()

    func append(bytes encoded: UnsafeRawBufferPointer) throws(EventStoreError) -> Sequence64 {
        _ = try live("append an event")
        let sequence = try eventCount()
        guard sequence < UInt64.max else { throw .corrupt("\(environment.path): the log has no sequence number left") }
        if !block.fits(encoded.count) { try flushEvents() }
        if block.fits(encoded.count) {
            block.add(encoded, at: sequence)
        } else if LMDBEventRecord.canStandAlone(encoded) {
            try putEvents(encoded, key: sequence)   // too large for a block: a record of its own
        } else {
            let r: Result<Void, EventStoreError> = LMDBEventRecord.blockOfOne(encoded).withUnsafeBytes { b in
                Result { () throws(EventStoreError) in try putEvents(b, key: sequence) }
            }
            try r.get()
        }
        cachedEventCount = sequence + 1
        return sequence
    }

    /// Puts one record into the log after its last, under `key`, the sequence number of its last event.
    private func putEvents(_ record: UnsafeRawBufferPointer, key last: Sequence64) throws(EventStoreError) {
        let txn = try live("append events")
        let rc = LMDBValue.with(sequence: last) { key in
            LMDBValue.with(record) { value in mdb_put(txn, environment.databases.events, &key, &value, UInt32(MDB_APPEND)) }
        }
        if rc == MDB_KEYEXIST {
            // MDB_APPEND refuses a key that is not past the last one: the count was wrong. The
            // transaction must not commit (its run index would point at events not written).
            let error = EventStoreError.corrupt("\(environment.path): events up to \(last) already exist or are out of order")
            if failure == nil { failure = error }
            throw error
        }
        try check(rc, "append events up to \(last)")
    }

    /// Puts the pending appends into the log as one record. The store calls it before the
    /// commit; reads of the log call it first (a pending event is read from the block itself).
    func flushEvents() throws(EventStoreError) {
        guard let record = block.pendingRecord() else { return }
        defer { block.clear() }
        try putEvents(record.bytes, key: record.key)
    }

    override func storedEvent(at sequence: Sequence64) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        if let pending = block.event(at: sequence) { return pending }
        return try super.storedEvent(at: sequence)
    }

    override func forEachEvent(from start: Sequence64, _ body: (Sequence64, UnsafeRawBufferPointer) throws -> Bool) throws {
        try flushEvents()
        try super.forEachEvent(from: start, body)
    }

    func put(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
        let txn = try live("put into \(table)")
        try requireStorable(key.count, "put into \(table)")
        let rc = LMDBValue.with(key) { k in
            LMDBValue.with(value) { v in mdb_put(txn, environment.databases.handle(table), &k, &v, 0) }
        }
        try check(rc, "put into \(table)")
        key.withUnsafeBytes { noteStored($0, in: table) }
    }

    /// `MDB_NOOVERWRITE`: on a present key LMDB answers `MDB_KEYEXIST` with the value found,
    /// which is not a failure of the transaction.
    ///
    /// A key that sorts after the table's last is appended with `MDB_APPEND`: one walk down the
    /// right edge of the tree instead of a search, and the common case of a growing run index.
    func insertIfAbsent(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]? {
        let r: Result<[UInt8]?, EventStoreError> = value.withUnsafeBytes { v in
            key.withUnsafeBytes { k in Result { () throws(EventStoreError) in try insertIfAbsent(valueBytes: v, in: table, keyBytes: k) } }
        }
        return try r.get()
    }

    func insertIfAbsent(valueBytes value: UnsafeRawBufferPointer, in table: StoreTable, keyBytes key: UnsafeRawBufferPointer) throws(EventStoreError) -> [UInt8]? {
        let txn = try live("insert into \(table)")
        try requireStorable(key.count, "insert into \(table)")
        let dbi = environment.databases.handle(table)
        if try sortsAfterLast(key, in: table, txn) {
            let rc = LMDBValue.with(key) { k in LMDBValue.with(value) { v in mdb_put(txn, dbi, &k, &v, UInt32(MDB_APPEND)) } }
            if rc != MDB_KEYEXIST {
                try check(rc, "insert into \(table)")
                remember(key, in: table)
                return nil
            }
            // LMDB disagrees about the last key — the remembered one was out of date, which the
            // bookkeeping above should make impossible (debug builds stop here) — so forget it
            // and take the searching path.
            assertionFailure("the remembered last key of \(table) was out of date")
            lastKeys[Self.slot(table)] = .unknown
        }
        var found: [UInt8]?
        let rc = LMDBValue.with(key) { k in
            LMDBValue.with(value) { v -> Int32 in
                let rc = mdb_put(txn, dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
                if rc == MDB_KEYEXIST { found = LMDBValue.bytes(v) }
                return rc
            }
        }
        if rc == MDB_KEYEXIST { return found }
        try check(rc, "insert into \(table)")
        noteStored(key, in: table)
        return nil
    }

    func delete(in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
        let txn = try live("delete from \(table)")
        guard isStorable(key) else { return }   // nothing can be stored under it
        let rc = LMDBValue.with(key) { k in mdb_del(txn, environment.databases.handle(table), &k, nil) }
        if rc == MDB_NOTFOUND { return }
        try check(rc, "delete from \(table)")
        let slot = Self.slot(table)
        if case .known = lastKeys[slot], lastKey(slot).elementsEqual(key) { lastKeys[slot] = .unknown }
    }

    /// `MDB_APPEND`: LMDB answers `MDB_KEYEXIST` for a key that does not sort after the last.
    func putAfterLast(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
        let txn = try live("append to \(table)")
        try requireStorable(key.count, "append to \(table)")
        let rc = LMDBValue.with(key) { k in
            LMDBValue.with(value) { v in mdb_put(txn, environment.databases.handle(table), &k, &v, UInt32(MDB_APPEND)) }
        }
        if rc == MDB_KEYEXIST { throw .corrupt("a key put after the last of \(table) does not sort after it") }
        try check(rc, "append to \(table)")
        // Not copied: a table filled by appends is not searched in the same transaction, and
        // should it be, its last key is read again once.
        lastKeys[Self.slot(table)] = .unknown
    }

    private static func slot(_ table: StoreTable) -> Int {
        switch table {
        case .runs: return 0
        case .openRuns: return 1
        case .usage: return 2
        case .meta: return 3
        }
    }

    /// Whether `key` sorts after every key of `table` in LMDB's order for these databases
    /// (bytewise, a prefix first). The last key is read once per transaction, then kept.
    private func sortsAfterLast(_ key: UnsafeRawBufferPointer, in table: StoreTable, _ txn: OpaquePointer) throws(EventStoreError) -> Bool {
        let slot = Self.slot(table)
        if case .unknown = lastKeys[slot] {
            var cursor: OpaquePointer?
            var rc = mdb_cursor_open(txn, environment.databases.handle(table), &cursor)
            guard rc == 0, let cursor else { throw failed(rc, "open a cursor on \(table)") }
            defer { mdb_cursor_close(cursor) }
            var k = MDB_val(), v = MDB_val()
            rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
            if rc == MDB_NOTFOUND {
                lastKeys[slot] = .empty
            } else {
                guard rc == 0 else { throw failed(rc, "find the last key of \(table)") }
                remember(LMDBValue.buffer(k), in: table)
            }
        }
        switch lastKeys[slot] {
        case .unknown: return false
        case .empty: return true
        case .known:
            return StoreBytes.precede(lastKey(slot), key.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Remembers `key` as the table's last.
    private func remember(_ key: UnsafeRawBufferPointer, in table: StoreTable) {
        let slot = Self.slot(table)
        guard key.count <= lastKeyCapacity, let from = key.baseAddress else {
            lastKeys[slot] = .unknown   // not storable anyway; LMDB has refused it already
            return
        }
        UnsafeMutableRawPointer(lastKeyBuffer + slot * lastKeyCapacity).copyMemory(from: from, byteCount: key.count)
        lastKeyCounts[slot] = key.count
        lastKeys[slot] = .known
    }

    /// Keeps the remembered last key true after `key` was stored in `table`.
    private func noteStored(_ key: UnsafeRawBufferPointer, in table: StoreTable) {
        let slot = Self.slot(table)
        switch lastKeys[slot] {
        case .unknown: return
        case .empty: remember(key, in: table)
        case .known:
            if StoreBytes.precede(lastKey(slot), key.assumingMemoryBound(to: UInt8.self)) {
                remember(key, in: table)
            }
        }
    }

    /// Throws the error that names `operation` when LMDB cannot hold a key of `count` bytes
    /// (empty, or longer than its maximum key size). The name is built only then: this runs
    /// for every put.
    private func requireStorable(_ count: Int, _ operation: @autoclosure () -> String) throws(EventStoreError) {
        guard count > 0, count <= environment.maxKeySize else {
            throw .storage(operation: "\(operation()) (\(environment.path))",
                           message: count == 0 ? "empty key" : "key of \(count) bytes; LMDB keys hold at most \(environment.maxKeySize)")
        }
    }

    func clear(_ table: StoreTable) throws(EventStoreError) {
        let txn = try live("clear \(table)")
        try check(mdb_drop(txn, environment.databases.handle(table), 0), "clear \(table)")
        lastKeys[Self.slot(table)] = .empty
    }
}
