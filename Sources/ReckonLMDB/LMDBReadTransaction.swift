import CLMDB
import ReckonCore

/// An ``EventStoreReader`` over one LMDB transaction: the snapshot a ``LMDBEventStore/read(_:)``
/// body sees (and the read half of a write). Events reach the body straight from the memory
/// map, without a copy; table entries are copied, as the protocol hands out arrays.
///
/// Valid only during the closure it was handed to: afterwards every call throws.
class LMDBReadTransaction: EventStoreReader {
    let environment: LMDBEnvironment
    @exclusivity(unchecked) private var txn: OpaquePointer?
    /// The number of events, once known (a snapshot's does not change; a writer keeps it current).
    @exclusivity(unchecked) var cachedEventCount: UInt64?

    init(_ txn: OpaquePointer, environment: LMDBEnvironment) {
        self.txn = txn
        self.environment = environment
    }

    /// LMDB's id of the transaction: that of the last commit a read sees.
    var snapshotID: UInt64? { txn.map { UInt64(mdb_txn_id($0)) } }

    /// A cursor on the log for lookups by sequence number, opened on first use and closed by
    /// ``closeCursors()`` before the transaction ends.
    @exclusivity(unchecked) private var eventCursor: OpaquePointer?

    /// Closes the cursors this object keeps. Called before the transaction ends: a write
    /// transaction's cursors must not be closed after it, a read transaction's must be closed.
    func closeCursors() {
        if let eventCursor { mdb_cursor_close(eventCursor) }
        eventCursor = nil
    }

    /// Detaches the object from its transaction, which the store is about to end.
    func invalidate() {
        closeCursors()
        txn = nil
    }

    /// The live transaction, or an error naming the misuse.
    /// `operation` is built only on failure: this runs for every get and put.
    @inline(__always)
    func live(_ operation: @autoclosure () -> String) throws(EventStoreError) -> OpaquePointer {
        guard let txn else {
            throw .storage(operation: "\(operation()) (\(environment.path))",
                           message: "the transaction has ended: a reader or writer is valid only inside its read/write closure")
        }
        return txn
    }

    func failed(_ rc: Int32, _ operation: String) -> EventStoreError {
        environment.error(rc, operation)
    }

    /// A key LMDB can hold: 1 to `maxKeySize` bytes.
    func isStorable(_ key: [UInt8]) -> Bool {
        !key.isEmpty && key.count <= environment.maxKeySize
    }

    /// Runs `body` with a cursor on `dbi`, closed afterwards. `operation` names it in an error,
    /// and is only made for one (its text costs a look-up of how to print the table, every call).
    func withCursor<R>(_ dbi: MDB_dbi, _ operation: @autoclosure () -> String, _ body: (OpaquePointer) throws -> R) throws -> R {
        let txn = try live(operation())
        var cursor: OpaquePointer?
        let rc = mdb_cursor_open(txn, dbi, &cursor)
        guard rc == 0, let cursor else { throw failed(rc, "open a cursor to \(operation())") }
        defer { mdb_cursor_close(cursor) }
        return try body(cursor)
    }

    func eventCount() throws(EventStoreError) -> UInt64 {
        if let cachedEventCount { return cachedEventCount }
        let count = try environment.databases.eventCount(try live("count events"), path: environment.path)
        cachedEventCount = count
        return count
    }

    func eventBytes(at sequence: Sequence64) throws(EventStoreError) -> [UInt8]? {
        try storedEvent(at: sequence).map { Array($0) }
    }

    /// The event's bytes in the memory map, without a copy.
    func withEventBytes<R>(at sequence: Sequence64, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let event = try storedEvent(at: sequence) else { return nil }
        return try body(event)
    }

    /// The event at `sequence` where the log's records hold it (``LMDBEventRecord``), valid
    /// until the transaction changes the log or ends: in the first record whose last event is
    /// at or after it — one cursor descent.
    func storedEvent(at sequence: Sequence64) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        let txn = try live("read event \(sequence)")
        if eventCursor == nil {
            var cursor: OpaquePointer?
            let rc = mdb_cursor_open(txn, environment.databases.events, &cursor)
            guard rc == 0, let cursor else { throw failed(rc, "open a cursor to read event \(sequence)") }
            eventCursor = cursor
        }
        guard let cursor = eventCursor else { return nil }
        let path = environment.path
        var key = MDB_val(), value = MDB_val()
        let rc = LMDBValue.with(sequence: sequence) { k in
            key = k
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        if rc == MDB_NOTFOUND { return nil }   // past the end
        guard rc == 0 else { throw failed(rc, "read event \(sequence)") }
        let last = try LMDBValue.sequence(key, path: path)
        let record = LMDBValue.buffer(value)
        let first = try LMDBEventRecord.first(record, key: last, path: path)
        guard sequence >= first else { return nil }   // a gap: not there
        return try LMDBEventRecord.event(in: record, key: last, at: sequence - first, path: path)
    }

    func forEachEvent(from start: Sequence64, _ body: (Sequence64, UnsafeRawBufferPointer) throws -> Bool) throws {
        let path = environment.path
        try withCursor(environment.databases.events, "read events from \(start)") { cursor in
            var key = MDB_val(), value = MDB_val()
            // The first record whose last event is at or after `start`: the one holding it.
            var rc = LMDBValue.with(sequence: start) { k in
                key = k
                return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
            }
            var expected = start
            var firstRecord = true
            while rc == 0 {
                let last = try LMDBValue.sequence(key, path: path)
                let record = LMDBValue.buffer(value)
                let first = try LMDBEventRecord.first(record, key: last, path: path)
                // Only the first record may begin before `start`; every other begins where the last ended.
                guard first == expected || (firstRecord && first < expected) else {
                    throw EventStoreError.corrupt("\(path): expected event \(expected), found \(first); sequence numbers are not dense")
                }
                firstRecord = false
                let more = try LMDBEventRecord.forEachEvent(in: record, key: last, from: expected - first, path: path) { i, event in
                    try body(first &+ i, event)
                }
                if !more { return }
                expected = last &+ 1
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            guard rc == MDB_NOTFOUND else { throw failed(rc, "read events after \(expected)") }
        }
    }

    func value(in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]? {
        let txn = try live("read from \(table)")
        guard isStorable(key) else { return nil }
        var value = MDB_val()
        let rc = LMDBValue.with(key) { k in mdb_get(txn, environment.databases.handle(table), &k, &value) }
        if rc == MDB_NOTFOUND { return nil }
        guard rc == 0 else { throw failed(rc, "read from \(table)") }
        return LMDBValue.bytes(value)
    }

    func forEachEntry(in table: StoreTable, prefix: [UInt8], _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try forEachEntryInPlace(in: table, prefix: prefix) { k, v in try body(Array(k), Array(v)) }
    }

    func forEachEntryInPlace(in table: StoreTable, prefix: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        guard prefix.count <= environment.maxKeySize else { _ = try live("read from \(table)"); return }
        try withCursor(environment.databases.handle(table), "read from \(table)") { cursor in
            var key = MDB_val(), value = MDB_val()
            var rc: Int32
            if prefix.isEmpty {
                rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            } else {
                rc = LMDBValue.with(prefix) { p in
                    key = p
                    return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                }
            }
            while rc == 0 {
                let k = LMDBValue.buffer(key)
                guard k.starts(with: prefix) else { return }
                if try !body(k, LMDBValue.buffer(value)) { return }
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            guard rc == MDB_NOTFOUND else { throw failed(rc, "read from \(table)") }
        }
    }
}
