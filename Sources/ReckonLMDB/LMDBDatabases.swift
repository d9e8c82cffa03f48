import CLMDB
import ReckonCore

/// The named databases of a store, one per ``StoreTable`` plus `events` (8-byte big-endian
/// sequence numbers, compared bytewise, so key order is numeric order), and the checks made when
/// they are opened: the format guard and the density of the log.
struct LMDBDatabases: Sendable {
    let events: MDB_dbi
    let runs: MDB_dbi
    let openRuns: MDB_dbi
    let usage: MDB_dbi
    let meta: MDB_dbi

    static let eventsName = "events"
    /// The `maxdbs` the environment is opened with: the log and one per table.
    static let count = MDB_dbi(1 + StoreTable.allCases.count)

    func handle(_ table: StoreTable) -> MDB_dbi {
        switch table {
        case .runs: return runs
        case .openRuns: return openRuns
        case .usage: return usage
        case .meta: return meta
        }
    }

    /// Opens the databases in one transaction (committed, so the handles outlive it). A fresh
    /// environment gets all of them and the current format; an existing one must carry a
    /// format this build reads, or nothing is touched and ``EventStoreError/newerFormat(path:found:supported:)``
    /// is thrown.
    static func open(in env: OpaquePointer, path: String, readOnly: Bool) throws(EventStoreError) -> LMDBDatabases {
        var begun: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &begun)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map between our open and this transaction.
            rc = mdb_env_set_mapsize(env, 0)
            if rc == 0 { rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &begun) }
        }
        guard rc == 0, let txn = begun else { throw LMDBStatus.error(rc, operation: "begin the opening transaction", path: path, mapSize: 0) }
        var finished = false
        defer { if !finished { mdb_txn_abort(txn) } }
        func check(_ rc: Int32, _ operation: String) throws(EventStoreError) {
            guard rc != 0 else { return }
            throw LMDBStatus.error(rc, operation: operation, path: path, mapSize: 0)
        }
        func database(_ name: String, create: Bool) throws(EventStoreError) -> MDB_dbi? {
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "open database \(name)")
            return dbi
        }
        func existing(_ name: String) throws(EventStoreError) -> MDB_dbi {
            if let dbi = try database(name, create: !readOnly) { return dbi }
            throw .corrupt("\(path) has no \(name) database")
        }

        var format: UInt32?
        if let meta = try database(StoreTable.meta.rawValue, create: false) {
            format = try readFormat(txn, meta, path: path)
            if let found = format, found > EventCodec.formatVersion {
                throw .newerFormat(path: path, found: found, supported: EventCodec.formatVersion)
            }
        } else {
            // No meta table: a fresh environment, or an LMDB environment that is not ours.
            var main: MDB_dbi = 0
            try check(mdb_dbi_open(txn, nil, 0, &main), "open the main database")
            var stat = MDB_stat()
            try check(mdb_stat(txn, main, &stat), "read the main database")
            guard stat.ms_entries == 0 else {
                throw .corrupt("\(path) holds an LMDB environment that is not a reckon event store (it has no meta database)")
            }
            if readOnly {
                throw .storage(operation: "open \(path) read-only", message: "the event store has never been written")
            }
        }
        let dbs = LMDBDatabases(events: try existing(eventsName),
                                runs: try existing(StoreTable.runs.rawValue),
                                openRuns: try existing(StoreTable.openRuns.rawValue),
                                usage: try existing(StoreTable.usage.rawValue),
                                meta: try existing(StoreTable.meta.rawValue))
        // A writable open of an older store raises its format: the log may get blocks of
        // events from now on, which an older reckon would misread (it refuses a newer format).
        if (format ?? 0) < EventCodec.formatVersion && !readOnly {
            var w = ByteWriter(capacity: 4)
            w.u32BE(EventCodec.formatVersion)
            try check(putBytes(txn, dbs.meta, key: Array(ProjectionMeta.format.utf8), value: w.bytes), "write the format version")
        }
        try dbs.checkDensity(txn, path: path)
        finished = true
        try check(mdb_txn_commit(txn), "commit the opening transaction")
        return dbs
    }

    /// The `format` meta entry: nil when absent (a fresh store), an error when malformed.
    /// The `format` meta entry: nil when absent (a fresh store), an error when malformed.
    private static func readFormat(_ txn: OpaquePointer, _ meta: MDB_dbi, path: String) throws(EventStoreError) -> UInt32? {
        var value = MDB_val()
        let rc = LMDBValue.with(Array(ProjectionMeta.format.utf8)) { key in mdb_get(txn, meta, &key, &value) }
        if rc == MDB_NOTFOUND { return nil }
        guard rc == 0 else { throw LMDBStatus.error(rc, operation: "read the format version", path: path, mapSize: 0) }
        let bytes = LMDBValue.buffer(value)
        guard bytes.count == 4 else {
            throw .corrupt("\(path): the format entry is \(bytes.count) bytes, expected a 4-byte big-endian number")
        }
        return bytes.reduce(0) { ($0 << 8) | UInt32($1) }
    }

    private static func putBytes(_ txn: OpaquePointer, _ dbi: MDB_dbi, key: [UInt8], value: [UInt8]) -> Int32 {
        LMDBValue.with(key) { k in LMDBValue.with(value) { v in mdb_put(txn, dbi, &k, &v, 0) } }
    }

    /// The log can be dense: it has no more records than events (a record holds one event or a
    /// block of them, ``LMDBEventRecord``), and records if and only if events. Gaps inside are
    /// found when the log is read (``LMDBReadTransaction/forEachEvent(from:_:)``).
    private func checkDensity(_ txn: OpaquePointer, path: String) throws(EventStoreError) {
        var stat = MDB_stat()
        let rc = mdb_stat(txn, events, &stat)
        guard rc == 0 else { throw LMDBStatus.error(rc, operation: "read the events database", path: path, mapSize: 0) }
        let count = try eventCount(txn, path: path)
        guard UInt64(stat.ms_entries) <= count, (stat.ms_entries == 0) == (count == 0) else {
            throw .corrupt("\(path): the event log has \(stat.ms_entries) records but sequence numbers up to \(count) (exclusive); they are not dense")
        }
    }

    /// The number of events: one past the last sequence number (the log is dense from 0).
    func eventCount(_ txn: OpaquePointer, path: String) throws(EventStoreError) -> UInt64 {
        var cursor: OpaquePointer?
        var rc = mdb_cursor_open(txn, events, &cursor)
        guard rc == 0, let cursor else { throw LMDBStatus.error(rc, operation: "open a cursor on events", path: path, mapSize: 0) }
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), value = MDB_val()
        rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST)
        if rc == MDB_NOTFOUND { return 0 }
        guard rc == 0 else { throw LMDBStatus.error(rc, operation: "read the last event", path: path, mapSize: 0) }
        let last = try LMDBValue.sequence(key, path: path)   // a record is keyed by its last event (LMDBEventRecord)
        guard last < UInt64.max else { throw .corrupt("\(path): the last sequence number is \(last)") }
        return last + 1
    }
}
