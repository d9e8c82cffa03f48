import Synchronization

/// An ``EventStore`` held in memory: the reference implementation of the store contract, used by
/// fast tests and by dry runs that must not touch the real state. A write works on a copy of
/// the state and publishes it only when the body returns, so a throwing body leaves no trace.
public final class InMemoryEventStore: EventStore {
    struct State {
        var events: [[UInt8]] = []
        var tables: [StoreTable: [[UInt8]: [UInt8]]] = [:]
    }

    private let state = Mutex(State())
    private let writeLock = Mutex(())

    public init() {}

    public func read<T>(_ body: (any EventStoreReader) throws -> T) throws -> T {
        let snapshot = state.withLock { $0 }
        return try body(Snapshot(state: snapshot))
    }

    public func write<T>(_ body: (any EventStoreWriter) throws -> T) throws -> T {
        try writeLock.withLock { _ in
            let txn = Transaction(state: state.withLock { $0 })
            let result = try body(txn)
            state.withLock { $0 = txn.state }
            return result
        }
    }

    class Snapshot: EventStoreReader {
        var state: State
        init(state: State) { self.state = state }

        func eventCount() throws(EventStoreError) -> UInt64 { UInt64(state.events.count) }

        func eventBytes(at sequence: Sequence64) throws(EventStoreError) -> [UInt8]? {
            sequence < UInt64(state.events.count) ? state.events[Int(sequence)] : nil
        }

        func forEachEvent(from start: Sequence64, _ body: (Sequence64, UnsafeRawBufferPointer) throws -> Bool) throws {
            var i = start
            while i < UInt64(state.events.count) {
                let keepGoing = try state.events[Int(i)].withUnsafeBytes { try body(i, $0) }
                if !keepGoing { return }
                i += 1
            }
        }

        func value(in table: StoreTable, key: [UInt8]) throws(EventStoreError) -> [UInt8]? {
            state.tables[table]?[key]
        }

        func forEachEntry(in table: StoreTable, prefix: [UInt8], _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
            guard let t = state.tables[table] else { return }
            for key in t.keys.filter({ $0.starts(with: prefix) }).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                guard let v = t[key] else { continue }
                if try !body(key, v) { return }
            }
        }
    }

    final class Transaction: Snapshot, EventStoreWriter {
        func append(_ encoded: [UInt8]) throws(EventStoreError) -> Sequence64 {
            state.events.append(encoded)
            return UInt64(state.events.count - 1)
        }

        func put(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
            guard !key.isEmpty, key.count <= 511 else {
                throw EventStoreError.storage(operation: "put", message: "keys must be 1…511 bytes, got \(key.count)")
            }
            state.tables[table, default: [:]][key] = value
            if let last = lastKeys[table], last.lexicographicallyPrecedes(key) { lastKeys[table] = key }
        }

        func delete(in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
            state.tables[table]?[key] = nil
            if lastKeys[table] == key { lastKeys[table] = nil }
        }

        func clear(_ table: StoreTable) throws(EventStoreError) {
            state.tables[table] = [:]
            lastKeys[table] = nil
        }

        /// The greatest key of a table, kept once asked for (so filling a table in key order
        /// does not scan it per key); empty for an empty table.
        private var lastKeys: [StoreTable: [UInt8]] = [:]

        func putAfterLast(_ value: [UInt8], in table: StoreTable, key: [UInt8]) throws(EventStoreError) {
            let last = lastKeys[table] ?? (state.tables[table]?.keys.max { $0.lexicographicallyPrecedes($1) } ?? [])
            guard last.lexicographicallyPrecedes(key) else {
                throw EventStoreError.corrupt("a key put after the last of \(table) does not sort after it")
            }
            try put(value, in: table, key: key)
            lastKeys[table] = key
        }
    }
}
