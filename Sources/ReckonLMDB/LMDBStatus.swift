#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLMDB
import ReckonCore

/// Turns LMDB and system return codes into ``EventStoreError``s an operator can act on: a full
/// map or disk gets its own case, damaged files are `corrupt`, and everything else carries the
/// operation, the store's path and LMDB's own words (`mdb_strerror`).
enum LMDBStatus {
    /// LMDB's description of `rc` (system errors included).
    static func message(_ rc: Int32) -> String {
        guard let text = mdb_strerror(rc) else { return "error \(rc)" }
        return String(cString: text)
    }

    static func error(_ rc: Int32, operation: String, path: String, mapSize: Int) -> EventStoreError {
        switch rc {
        case MDB_MAP_FULL:
            return .mapFull(path: path, mapSize: mapSize)
        case ENOSPC, EDQUOT:
            return .diskFull(path: path)
        case EIO where deviceIsFull(path):
            // LMDB reports a short write (the device filled up mid-commit) as EIO.
            return .diskFull(path: path)
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID:
            return .corrupt("\(operation) on \(path) failed: \(message(rc))")
        default:
            return .storage(operation: "\(operation) (\(path))", message: message(rc))
        }
    }

    /// Whether the file system holding `path` has (almost) no space left for an unprivileged
    /// write: fewer than 64 free blocks.
    static func deviceIsFull(_ path: String) -> Bool {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return false }
        return st.f_bavail < 64
    }
}
