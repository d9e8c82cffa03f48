#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLMDB
import ReckonCore
import Synchronization

/// One open LMDB environment: the `MDB_env` handle, the handles of the store's named databases,
/// and the two pieces of in-process discipline LMDB leaves to its caller:
///
/// - the map may be resized only while no transaction of this process is active, so every
///   transaction holds `mapLock` shared and a resize takes it exclusively;
/// - one thread must not nest a write inside its own write (it would wait for itself forever)
///   or inside its own read (a resize would then wait for itself), so those are refused with an
///   error instead of a deadlock.
///
/// Opened with `MDB_NOTLS`, so read transactions are not tied to threads, and with LMDB's default
/// durable sync (never `MDB_NOSYNC` or `MDB_WRITEMAP`). Instances are shared and closed by
/// ``LMDBEnvironmentRegistry``.
final class LMDBEnvironment: @unchecked Sendable {
    let path: String
    /// The validated options of the store that opened the environment.
    let options: LMDBStoreOptions
    let databases: LMDBDatabases
    /// LMDB's largest key (511 bytes with the default build).
    let maxKeySize: Int
    private let handle: OpaquePointer
    private let mapLock: UnsafeMutablePointer<pthread_rwlock_t>
    private let threads = Mutex(ThreadUse())

    private struct ThreadUse {
        var writing: Set<UInt> = []
        var readDepth: [UInt: Int] = [:]
    }

    var isReadOnly: Bool { options.readOnly }

    private init(path: String, options: LMDBStoreOptions, handle: OpaquePointer, databases: LMDBDatabases,
                 maxKeySize: Int, mapLock: UnsafeMutablePointer<pthread_rwlock_t>) {
        self.path = path
        self.options = options
        self.handle = handle
        self.databases = databases
        self.maxKeySize = maxKeySize
        self.mapLock = mapLock
    }

    /// Opens the environment in `path` (an existing directory), checks for readers left by dead
    /// processes, sizes the map and opens (or, on a fresh store, creates) the databases.
    static func open(path: String, options: LMDBStoreOptions) throws(EventStoreError) -> LMDBEnvironment {
        var created: OpaquePointer?
        var rc = mdb_env_create(&created)
        guard rc == 0, let env = created else {
            throw LMDBStatus.error(rc, operation: "create the LMDB environment", path: path, mapSize: 0)
        }
        var opened = false
        defer { if !opened { mdb_env_close(env) } }
        func check(_ rc: Int32, _ operation: String) throws(EventStoreError) {
            guard rc != 0 else { return }
            throw LMDBStatus.error(rc, operation: operation, path: path, mapSize: mapSize(of: env))
        }

        try check(mdb_env_set_maxdbs(env, LMDBDatabases.count), "set the number of databases")
        // A fresh environment starts at the initial size (LMDB's own default is 10 MiB); an
        // existing one opens with the size it persisted, and is only ever grown.
        var existing = stat()
        let fresh = stat(path + "/data.mdb", &existing) != 0 && errno == ENOENT
        if fresh && !options.readOnly {
            try check(mdb_env_set_mapsize(env, options.initialMapSize), "set the map size to \(options.initialMapSize)")
        }
        let flags = UInt32(MDB_NOTLS) | (options.readOnly ? UInt32(MDB_RDONLY) : 0)
        rc = mdb_env_open(env, path, flags, 0o600)
        if rc == ENOENT && options.readOnly {
            throw .storage(operation: "open \(path) read-only", message: "there is no event store there (no data.mdb)")
        }
        try check(rc, "open the environment")
        var dead: Int32 = 0
        try check(mdb_reader_check(env, &dead), "clear stale readers")
        if !fresh && !options.readOnly && mapSize(of: env) < options.initialMapSize {
            try check(mdb_env_set_mapsize(env, options.initialMapSize), "set the map size to \(options.initialMapSize)")
        }
        let databases = try LMDBDatabases.open(in: env, path: path, readOnly: options.readOnly)

        let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        rc = pthread_rwlock_init(lock, nil)
        guard rc == 0 else {
            lock.deallocate()
            throw .storage(operation: "open \(path)", message: "pthread_rwlock_init: \(LMDBStatus.message(rc))")
        }
        opened = true
        return LMDBEnvironment(path: path, options: options, handle: env, databases: databases,
                               maxKeySize: Int(mdb_env_get_maxkeysize(env)), mapLock: lock)
    }

    /// Closes the environment. Called once, by the registry, when no store uses it any more.
    func close() {
        mdb_env_close(handle)
        pthread_rwlock_destroy(mapLock)
        mapLock.deallocate()
    }

    // MARK: Transactions

    /// What beginning a transaction gave.
    enum Begun {
        case transaction(OpaquePointer)
        /// Another process grew the map past ours: adopt its size (``adoptPersistedMapSize()``) and retry.
        case mapResized
    }

    /// Begins a transaction. The caller holds the map lock shared (``lockMapShared()``).
    func begin(readOnly: Bool) throws(EventStoreError) -> Begun {
        var txn: OpaquePointer?
        let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_MAP_RESIZED { return .mapResized }
        guard rc == 0, let txn else {
            throw error(rc, readOnly ? "begin a read transaction" : "begin a write transaction")
        }
        return .transaction(txn)
    }

    func error(_ rc: Int32, _ operation: String) -> EventStoreError {
        LMDBStatus.error(rc, operation: operation, path: path, mapSize: mapSize)
    }

    // MARK: Map size

    /// The current size of the memory map in this process.
    var mapSize: Int { Self.mapSize(of: handle) }

    private static func mapSize(of env: OpaquePointer) -> Int {
        var info = MDB_envinfo()
        guard mdb_env_info(env, &info) == 0 else { return 0 }
        return info.me_mapsize
    }

    /// Grows the map by one step after a write found it full at `seen` bytes. Does nothing when
    /// another thread already grew it; throws ``EventStoreError/mapFull(path:mapSize:)`` at the maximum.
    func grow(afterFullAt seen: Int) throws(EventStoreError) {
        try lockMapExclusive()
        defer { unlockMap() }
        let current = mapSize
        if current > seen { return }
        guard current < options.maxMapSize else { throw .mapFull(path: path, mapSize: current) }
        let next = current > options.maxMapSize - options.growthStep ? options.maxMapSize : current + options.growthStep
        let rc = mdb_env_set_mapsize(handle, next)
        guard rc == 0 else { throw error(rc, "grow the map from \(current) to \(next) bytes") }
    }

    /// Adopts the map size another process persisted (after `MDB_MAP_RESIZED`).
    func adoptPersistedMapSize() throws(EventStoreError) {
        try lockMapExclusive()
        defer { unlockMap() }
        let rc = mdb_env_set_mapsize(handle, 0)
        guard rc == 0 else { throw error(rc, "adopt the map size grown by another process") }
    }

    func lockMapShared() throws(EventStoreError) {
        let rc = pthread_rwlock_rdlock(mapLock)
        guard rc == 0 else { throw .storage(operation: "lock \(path) for a transaction", message: LMDBStatus.message(rc)) }
    }

    private func lockMapExclusive() throws(EventStoreError) {
        let rc = pthread_rwlock_wrlock(mapLock)
        guard rc == 0 else { throw .storage(operation: "lock \(path) to resize the map", message: LMDBStatus.message(rc)) }
    }

    func unlockMap() {
        pthread_rwlock_unlock(mapLock)
    }

    // MARK: Nesting guard

    /// Registers the calling thread as reading; pair with ``leaveRead()``.
    func enterRead() {
        let me = currentThread()
        threads.withLock { $0.readDepth[me, default: 0] += 1 }
    }

    func leaveRead() {
        let me = currentThread()
        threads.withLock { use in
            let depth = use.readDepth[me, default: 1] - 1
            use.readDepth[me] = depth > 0 ? depth : nil
        }
    }

    /// Registers the calling thread as writing, or refuses a write nested in this thread's own
    /// write or read, which would otherwise deadlock; pair with ``leaveWrite()``.
    func enterWrite() throws(EventStoreError) {
        let me = currentThread()
        let refusal: String? = threads.withLock { use in
            if use.writing.contains(me) {
                return "write called inside a write on the same thread; LMDB has one write transaction at a time, so it would wait for itself. Do the work in the outer write"
            }
            if use.readDepth[me] != nil {
                return "write called inside a read on the same thread; finish the read first (a map resize would wait for it forever)"
            }
            use.writing.insert(me)
            return nil
        }
        if let refusal { throw .storage(operation: "write to \(path)", message: refusal) }
    }

    func leaveWrite() {
        let me = currentThread()
        _ = threads.withLock { $0.writing.remove(me) }
    }

    private func currentThread() -> UInt {
        #if canImport(Glibc)
        return UInt(pthread_self())
        #else
        return UInt(bitPattern: pthread_self())
        #endif
    }

    // MARK: Resident memory

    /// The last page number seen by ``releaseMappedPages()``.
    private let lastReleasedPage = Mutex<Int>(0)

    /// Drops this process's page-table entries for the memory map once the database has grown
    /// by `threshold` bytes since the last time, so a long ingest does not keep the whole file
    /// mapped. The map is read-only (no `MDB_WRITEMAP`: LMDB writes with `pwrite`), so nothing
    /// is lost: the pages stay in the page cache and the next access maps them again. Without
    /// this, every page the B-trees ever visited stays in the resident set, which then grows
    /// with the file (a 1M-row ingest: 160 MB of mapped file pages beside 30 MB of heap).
    func releaseMappedPages(threshold: Int = 16 << 20) {
        #if os(Linux)
        var info = MDB_envinfo()
        guard mdb_env_info(handle, &info) == 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let used = (Int(info.me_last_pgno) + 1) * page
        let due: Bool = lastReleasedPage.withLock { last in
            guard used - last * page >= threshold else { return false }
            last = Int(info.me_last_pgno)
            return true
        }
        guard due else { return }
        // LMDB reports the map's address only for MDB_FIXEDMAP; find it in /proc/self/maps.
        for (start, length) in Self.mappings(of: path + "/data.mdb") {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), length, Int32(MADV_DONTNEED))
        }
        #endif
    }

    /// Address ranges where this process maps `file` (from /proc/self/maps).
    static func mappings(of file: String) -> [(UInt, Int)] {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(file, &resolved) != nil, let f = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(f) }
        let target = String(cString: resolved)
        var out: [(UInt, Int)] = []
        var line = [CChar](repeating: 0, count: 4096 + Int(PATH_MAX))
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line)
            guard text.hasSuffix(target + "\n") else { continue }
            let range = text.prefix { $0 != " " }.split(separator: "-")
            guard range.count == 2, let a = UInt(range[0], radix: 16), let b = UInt(range[1], radix: 16), b > a else { continue }
            out.append((a, Int(b - a)))
        }
        return out
    }

    // MARK: Diagnostics

    /// `mdb_env_info` and `mdb_env_stat` of the environment.
    func environmentFigures() throws(EventStoreError) -> (info: MDB_envinfo, stat: MDB_stat) {
        var info = MDB_envinfo()
        var rc = mdb_env_info(handle, &info)
        guard rc == 0 else { throw error(rc, "read environment info") }
        var stat = MDB_stat()
        rc = mdb_env_stat(handle, &stat)
        guard rc == 0 else { throw error(rc, "read environment statistics") }
        return (info, stat)
    }
}
