/// The tables an event store keeps beside the append-only log, all updated in the same atomic
/// write transaction as the events they derive from (pyeventsourcing's "tracking records"):
/// a complete dedup index, the live projection and metadata. Keys sort bytewise.
public enum StoreTable: String, CaseIterable, Sendable {
    /// Job-run identity key → sequence number (8 bytes BE) of its latest version.
    case runs
    /// Identity key → sequence number of runs that have started and not ended.
    case openRuns
    /// ``UsageKey`` bytes → closed native usage (Int128 BE): the persisted projection.
    case usage
    /// UTF-8 name → bytes: format version, projection fingerprint, observation marks. Each
    /// entry belongs to the component that writes it; nobody clears this table.
    case meta
}

/// Why an event store operation failed, in words an operator can act on.
public enum EventStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The LMDB map is full; nothing of the failed transaction was committed.
    case mapFull(path: String, mapSize: Int)
    /// The file system is full (ENOSPC) or over quota; nothing of the failed transaction was committed.
    case diskFull(path: String)
    /// The state was written by a newer reckon (format `found`; this build reads up to `supported`).
    case newerFormat(path: String, found: UInt32, supported: UInt32)
    /// Another process holds the exclusive lock on the state directory.
    case locked(path: String, holder: String)
    /// Data that does not decode, or a broken invariant (a gap in sequence numbers…).
    case corrupt(String)
    /// Any other failure of the storage layer, with the operation and the system's message.
    case storage(operation: String, message: String)

    public var description: String {
        switch self {
        case .mapFull(let p, let size):
            return "the event store at \(p) is full (LMDB map of \(size) bytes); nothing from the failed write was committed. Raise reckon.max_map_size_mb (or free disk space) and run again"
        case .diskFull(let p):
            return "no space left on the device holding \(p); nothing from the failed write was committed. Free space and run again"
        case .newerFormat(let p, let found, let supported):
            return "the state at \(p) has format \(found), written by a newer reckon; this reckon reads format \(supported) or older. Refusing to open it rather than misread it"
        case .locked(let p, let holder):
            return "the state directory \(p) is locked by another reckon (\(holder))"
        case .corrupt(let why):
            return "the event store is inconsistent: \(why)"
        case .storage(let op, let msg):
            return "event store \(op) failed: \(msg)"
        }
    }
}

/// Read access to one consistent snapshot of an event store.
public protocol EventStoreReader {
    /// Which committed state this reader sees (see the default, nil, in the extension).
    var snapshotID: UInt64? { get }
    /// The number of events, which is also the next sequence number.
    func eventCount() throws(EventStoreError) -> UInt64
    /// The encoded event at `sequence`, or nil past the end.
    func eventBytes(at sequence: Sequence64) throws(EventStoreError) -> [UInt8]?
    /// Calls `body` with the encoded event at `sequence` — in place where the store can, so the
    /// buffer is valid only during the call — or returns nil past the end.
    func withEventBytes<R>(at sequence: Sequence64, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R?
    /// Visits encoded events in sequence order from `start` until `body` returns false.
    /// The buffer is valid only during the call.
    func forEachEvent(from start: Sequence64, _ body: (Sequence64, UnsafeRawBufferPointer) throws -> Bool) throws
    func value(in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]?
    /// Visits the table's entries whose key starts with `prefix`, in key order, until `body` returns false.
    func forEachEntry(in table: StoreTable, prefix: [UInt8], _ body: ([UInt8], [UInt8]) throws -> Bool) throws
    /// ``forEachEntry(in:prefix:_:)`` with key and value lent in place where the store can (the
    /// LMDB store: straight from the memory map), valid only during the call — for readers that
    /// walk a whole table and keep little of it.
    func forEachEntryInPlace(in table: StoreTable, prefix: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws
}

extension EventStoreWriter {
    /// The bytes copied into an array: for stores that keep arrays anyway.
    public func append(bytes encoded: UnsafeRawBufferPointer) throws(EventStoreError) -> Sequence64 {
        try append(Array(encoded))
    }

    /// Value and key copied into arrays: for stores that keep arrays anyway.
    public func insertIfAbsent(valueBytes value: UnsafeRawBufferPointer, in table: StoreTable, keyBytes key: UnsafeRawBufferPointer) throws(EventStoreError) -> [UInt8]? {
        try insertIfAbsent(Array(value), in: table, key: Array(key))
    }
}

extension EventStoreReader {
    /// Names the committed state this reader sees, so that two readers opened one after the
    /// other can tell whether they see the same one (no commit in between); nil when the store
    /// cannot say. The LMDB store answers with LMDB's transaction id.
    public var snapshotID: UInt64? { nil }

    /// The entries copied, then lent: for stores that hold them as arrays anyway.
    public func forEachEntryInPlace(in table: StoreTable, prefix: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try forEachEntry(in: table, prefix: prefix) { k, v in
            try k.withUnsafeBytes { kb in try v.withUnsafeBytes { vb in try body(kb, vb) } }
        }
    }
}

/// Write access inside one atomic transaction: either everything done through it is committed
/// together, or (on a thrown error) nothing is.
public protocol EventStoreWriter: EventStoreReader {
    /// Appends an encoded event at the end of the log and returns its sequence number.
    func append(_ encoded: [UInt8]) throws(EventStoreError) -> Sequence64
    /// Keys are 1…511 bytes (LMDB's limit, enforced by every implementation).
    func put(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError)
    func delete(in table: StoreTable, key: [UInt8]) throws(EventStoreError)
    /// Puts `value` under `key` only when the key is absent, and returns nil; when present,
    /// changes nothing and returns the value found. (One B-tree descent in the LMDB store, where
    /// a lookup and then a put would take two — none when the key sorts after the table's last,
    /// which is appended; the recorder does this for every run it sees.)
    func insertIfAbsent(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]?
    /// ``append(_:)`` of bytes lent for the call (the recorder's, without an array per run).
    func append(bytes encoded: UnsafeRawBufferPointer) throws(EventStoreError) -> Sequence64
    /// ``insertIfAbsent(_:in:key:)`` with value and key lent for the call.
    func insertIfAbsent(valueBytes value: UnsafeRawBufferPointer, in table: StoreTable, keyBytes key: UnsafeRawBufferPointer) throws(EventStoreError) -> [UInt8]?
    /// Removes every entry of a table (used when a projection is rebuilt).
    func clear(_ table: StoreTable) throws(EventStoreError)
    /// Puts `value` under `key`, which must sort after every key in the table: a table filled in
    /// key order (an import's usage cells into an empty table). A key that does not is refused
    /// with ``EventStoreError/corrupt(_:)`` and changes nothing. (LMDB appends it to the last
    /// page without a search, `MDB_APPEND`.)
    func putAfterLast(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError)
}

/// An append-only event log plus its derived tables. Implementations: ``InMemoryEventStore``
/// (tests, dry runs) and the LMDB store; both pass the same contract test suite.
public protocol EventStore: AnyObject, Sendable {
    /// Runs `body` against a consistent read snapshot; writers never block it.
    func read<T>(_ body: (any EventStoreReader) throws -> T) throws -> T
    /// Runs `body` in one write transaction, committed durably when `body` returns and rolled
    /// back entirely when it throws. Writes are serialised. `body` may run more than once (the
    /// LMDB store re-runs it after growing a full map), so it must have no effects outside the
    /// transaction; a `write` must not be nested inside another `write` or a `read`.
    func write<T>(_ body: (any EventStoreWriter) throws -> T) throws -> T
}

extension EventStoreReader {
    /// A copy, then `body`. Stores that can lend their memory override it.
    public func withEventBytes<R>(at sequence: Sequence64, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let bytes = try eventBytes(at: sequence) else { return nil }
        return try bytes.withUnsafeBytes(body)
    }

    /// The decoded event at `sequence`, decoded where the store keeps it (no copy first).
    public func event(at sequence: Sequence64) throws -> Event? {
        try withEventBytes(at: sequence) { bytes in
            do { return try EventCodec.decode(bytes) } catch {
                throw EventStoreError.corrupt("event \(sequence) does not decode: \(error)")
            }
        }
    }

    /// Decoded events from `start`, at most `limit`.
    public func events(from start: Sequence64, limit: Int) throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        guard limit > 0 else { return out }
        try forEachEvent(from: start) { seq, buf in
            do { out.append(StoredEvent(sequence: seq, event: try EventCodec.decode(buf))) } catch {
                throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
            }
            return out.count < limit
        }
        return out
    }

    public func meta(_ name: String) throws(EventStoreError) -> [UInt8]? {
        try value(in: .meta, key: Array(name.utf8))
    }
}

extension EventStoreWriter {
    @discardableResult
    public func append(_ event: Event) throws(EventStoreError) -> Sequence64 {
        try append(EventCodec.encode(event))
    }

    /// The plain way: a lookup, then a put. Stores with a cheaper way override it.
    public func insertIfAbsent(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]? {
        if let found = try self.value(in: table, key: key) { return found }
        try put(value, in: table, key: key)
        return nil
    }

    public func setMeta(_ name: String, _ value: [UInt8]) throws(EventStoreError) {
        try put(value, in: .meta, key: Array(name.utf8))
    }
}

/// Big-endian helpers for store values.
public enum StoreBytes {
    /// Bytewise order of two byte strings (a proper prefix first), eight bytes at a time: the
    /// order of LMDB's keys, and of the in-memory store's.
    public static func precede(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            var i = 0
            while i + 8 <= n {
                let x = UInt64(bigEndian: UnsafeRawPointer(pa + i).loadUnaligned(as: UInt64.self))
                let y = UInt64(bigEndian: UnsafeRawPointer(pb + i).loadUnaligned(as: UInt64.self))
                if x != y { return x < y }
                i += 8
            }
            while i < n {
                if pa[i] != pb[i] { return pa[i] < pb[i] }
                i += 1
            }
        }
        return a.count < b.count
    }

    /// The same order for arrays.
    public static func precede(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in precede(pa, pb) } }
    }

    public static func u64(_ v: UInt64) -> [UInt8] { var w = ByteWriter(capacity: 8); w.u64BE(v); return w.bytes }
    public static func u64(_ b: [UInt8]) -> UInt64? {
        guard b.count == 8 else { return nil }
        return b.reduce(0) { ($0 << 8) | UInt64($1) }
    }
    public static func i128(_ v: Int128) -> [UInt8] { var w = ByteWriter(capacity: 16); w.i128BE(v); return w.bytes }
    /// ``i128(_:)-(Int128)`` written over the 16 bytes of `bytes`.
    public static func i128(_ v: Int128, into bytes: inout [UInt8]) {
        let u = UInt128(bitPattern: v)
        if bytes.count != 16 { bytes = [UInt8](repeating: 0, count: 16) }
        bytes.withUnsafeMutableBytes { b in
            b.storeBytes(of: UInt64(truncatingIfNeeded: u >> 64).bigEndian, toByteOffset: 0, as: UInt64.self)
            b.storeBytes(of: UInt64(truncatingIfNeeded: u).bigEndian, toByteOffset: 8, as: UInt64.self)
        }
    }
    public static func i128(_ b: UnsafeRawBufferPointer) -> Int128? {
        guard b.count == 16 else { return nil }
        let high = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let low = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return Int128(bitPattern: UInt128(high) << 64 | UInt128(low))
    }
    public static func i128(_ b: [UInt8]) -> Int128? { b.withUnsafeBytes { i128($0) } }
}
