#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLMDB
import ReckonCore

/// The durable ``EventStore``: reckon's append-only event log and its tables in one LMDB
/// environment in a state directory, so that an event and everything derived from it commit in
/// one durable transaction, and readers — in this process or others, such as `reckon usage`
/// beside a running daemon — see consistent snapshots without blocking the writer.
///
/// Writes are committed with LMDB's default durable sync. When a write finds the memory map
/// full, the store aborts it, grows the map by ``LMDBStoreOptions/growthStep`` and runs the
/// write closure again, up to ``LMDBStoreOptions/maxMapSize``; so a write closure may run more
/// than once and must not have effects outside the transaction that would be wrong to repeat.
/// Nothing committed is lost by a failed write.
///
/// A thread must not call `write` inside its own `read` or `write` on this store (or another
/// store on the same directory): that is refused with an error, as it would deadlock. Keep
/// reads short: a map growth waits for the reads of this process to finish, and an open read
/// keeps LMDB from reusing pages freed after it began.
///
/// Stores opened on the same directory in one process share one environment, with the map
/// options of the first (LMDB must not open an environment twice in one process).
public final class LMDBEventStore: EventStore {
    /// The state directory.
    public let path: String
    /// Whether this store was opened read-only (``write(_:)`` then throws).
    public let isReadOnly: Bool
    let environment: LMDBEnvironment

    /// Opens the store in `directory`, creating the directory (mode 0700) and a fresh store if
    /// missing — unless `options.readOnly`, which needs an existing store. Throws
    /// ``EventStoreError/newerFormat(path:found:supported:)`` for a store written by a newer reckon.
    public init(directory: String, options: LMDBStoreOptions = .init()) throws(EventStoreError) {
        let options = try options.validated(path: directory)
        if !options.readOnly { try Self.makeDirectory(directory) }
        path = directory
        isReadOnly = options.readOnly
        environment = try LMDBEnvironmentRegistry.acquire(directory: directory, options: options)
    }

    deinit {
        LMDBEnvironmentRegistry.release(environment)
    }

    private enum Attempt<T> {
        case done(T)
        case mapResized
        case mapFull(mapSize: Int)
    }

    public func read<T>(_ body: (any EventStoreReader) throws -> T) throws -> T {
        environment.enterRead()
        defer { environment.leaveRead() }
        while true {
            let attempt = try withMapLocked { () throws -> Attempt<T> in
                guard case .transaction(let txn) = try environment.begin(readOnly: true) else { return .mapResized }
                let reader = LMDBReadTransaction(txn, environment: environment)
                defer { reader.invalidate(); mdb_txn_abort(txn) }
                return .done(try body(reader))
            }
            if case .done(let result) = attempt { return result }
            try environment.adoptPersistedMapSize()   // another process grew the map past ours
        }
    }

    public func write<T>(_ body: (any EventStoreWriter) throws -> T) throws -> T {
        guard !isReadOnly else {
            throw EventStoreError.storage(operation: "write to \(path)", message: "the store was opened read-only")
        }
        try environment.enterWrite()
        defer { environment.leaveWrite() }
        while true {
            // Pages are released under the same shared map lock as the write: a reader may
            // resize the map (adopting another process's growth) and must not race with it.
            switch try withMapLocked({ () throws -> Attempt<T> in
                let attempt = try writeOnce(body)
                if case .done = attempt { environment.releaseMappedPages() }
                return attempt
            }) {
            case .done(let result):
                return result
            case .mapResized: try environment.adoptPersistedMapSize()
            case .mapFull(let size): try environment.grow(afterFullAt: size)
            }
        }
    }

    /// Runs one attempt with the map lock held shared, so the map is not resized under it.
    private func withMapLocked<T>(_ attempt: () throws -> Attempt<T>) throws -> Attempt<T> {
        try environment.lockMapShared()
        defer { environment.unlockMap() }
        return try attempt()
    }

    /// One run of `body` in one write transaction, committed if it returns and LMDB reported
    /// no failure. The caller holds the map lock shared.
    private func writeOnce<T>(_ body: (any EventStoreWriter) throws -> T) throws -> Attempt<T> {
        guard case .transaction(let txn) = try environment.begin(readOnly: false) else { return .mapResized }
        let writer = LMDBWriteTransaction(txn, environment: environment)
        var ended = false
        defer {
            writer.invalidate()
            if !ended { mdb_txn_abort(txn) }
        }
        let result: T
        do {
            result = try body(writer)
            try writer.flushEvents()
        } catch {
            if writer.foundMapFull { return .mapFull(mapSize: environment.mapSize) }
            throw error
        }
        if writer.foundMapFull { return .mapFull(mapSize: environment.mapSize) }
        if let failure = writer.failure { throw failure }   // the body swallowed it; LMDB would not commit
        writer.closeCursors()   // before the commit, which frees a write transaction's cursors itself
        ended = true   // mdb_txn_commit ends the transaction whether or not it succeeds
        let rc = mdb_txn_commit(txn)
        if rc == MDB_MAP_FULL { return .mapFull(mapSize: environment.mapSize) }
        guard rc == 0 else { throw environment.error(rc, "commit") }
        return .done(result)
    }

    /// Creates `directory` and missing parents with mode 0700; an existing directory is kept as is.
    private static func makeDirectory(_ directory: String) throws(EventStoreError) {
        var st = stat()
        if stat(directory, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw .storage(operation: "open \(directory)", message: "it exists and is not a directory")
            }
            return
        }
        guard errno == ENOENT else { throw .storage(operation: "open \(directory)", message: LMDBStatus.message(errno)) }
        var parent = directory
        while parent.hasSuffix("/") && parent.count > 1 { parent.removeLast() }
        if let slash = parent.lastIndex(of: "/"), slash != parent.startIndex {
            try makeDirectory(String(parent[..<slash]))
        }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw .storage(operation: "create directory \(directory)", message: LMDBStatus.message(errno))
        }
    }
}
