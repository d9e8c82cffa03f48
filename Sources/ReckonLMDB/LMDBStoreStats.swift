#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLMDB
import ReckonCore

/// Sizes and counts of an ``LMDBEventStore``, for benchmarks and `reckon` diagnostics.
public struct LMDBStoreStats: Sendable, Equatable {
    /// Bytes of `data.mdb` on disk (its length; LMDB writes it sparsely as pages are used).
    public var fileSize: Int
    /// The memory map's current size, which bounds the database until it is grown.
    public var mapSize: Int
    public var pageSize: Int
    /// Pages in use up to the last one written (`me_last_pgno + 1`).
    public var pagesUsed: Int
    /// The id of the last committed transaction.
    public var lastTransaction: Int
    public var readersInUse: Int
    public var maxReaders: Int
    /// Events in the log, in the snapshot the figures were taken from.
    public var events: UInt64
    /// Entries per table, in the same snapshot.
    public var entries: [StoreTable: Int]
}

extension LMDBEventStore {
    /// The length of `data.mdb` in bytes (0 if it cannot be read).
    public var fileSize: Int {
        var st = stat()
        guard stat(path + "/data.mdb", &st) == 0 else { return 0 }
        return Int(st.st_size)
    }

    /// The store's figures, from one read snapshot.
    public func stats() throws(EventStoreError) -> LMDBStoreStats {
        let environment = self.environment
        do {
            return try read { reader in
                guard let reader = reader as? LMDBReadTransaction else {
                    throw EventStoreError.storage(operation: "stats (\(path))", message: "not an LMDB transaction")
                }
                let txn = try reader.live("read statistics")
                var entries: [StoreTable: Int] = [:]
                for table in StoreTable.allCases {
                    var st = MDB_stat()
                    let rc = mdb_stat(txn, environment.databases.handle(table), &st)
                    guard rc == 0 else { throw environment.error(rc, "read statistics of \(table)") }
                    entries[table] = st.ms_entries
                }
                let (info, envStat) = try environment.environmentFigures()
                return LMDBStoreStats(fileSize: fileSize, mapSize: info.me_mapsize, pageSize: Int(envStat.ms_psize),
                                      pagesUsed: info.me_last_pgno + 1, lastTransaction: info.me_last_txnid,
                                      readersInUse: Int(info.me_numreaders), maxReaders: Int(info.me_maxreaders),
                                      events: try reader.eventCount(), entries: entries)
            }
        } catch let error as EventStoreError {
            throw error
        } catch {
            throw .storage(operation: "stats (\(path))", message: "\(error)")
        }
    }
}
