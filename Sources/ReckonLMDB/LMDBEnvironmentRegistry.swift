#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ReckonCore
import Synchronization

/// The environments this process has open, one per state directory.
///
/// LMDB must not open the same environment twice in one process: the second open takes the
/// lock file's POSIX locks, which never conflict within a process, concludes it is alone,
/// and resets the shared reader table and writer mutex under the first one's feet; and closing
/// either releases the other's locks. So every ``LMDBEventStore`` on a directory (identified by
/// device and inode, whatever the spelling of its path) shares one environment, which is
/// closed, under the registry's lock, when the last of them goes.
enum LMDBEnvironmentRegistry {
    private struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private struct Entry {
        let environment: LMDBEnvironment
        var users: Int
    }

    private static let open = Mutex<[Key: Entry]>([:])

    /// The environment of `directory` (which exists), opened now or shared with stores already
    /// open on it. A read-only environment cannot serve a store that wants to write.
    static func acquire(directory: String, options: LMDBStoreOptions) throws(EventStoreError) -> LMDBEnvironment {
        var st = stat()
        guard stat(directory, &st) == 0 else {
            throw .storage(operation: "open \(directory)", message: LMDBStatus.message(errno))
        }
        let key = Key(device: UInt64(truncatingIfNeeded: st.st_dev), inode: UInt64(truncatingIfNeeded: st.st_ino))
        return try open.withLock { (entries: inout [Key: Entry]) throws(EventStoreError) -> LMDBEnvironment in
            if var entry = entries[key] {
                if entry.environment.isReadOnly && !options.readOnly {
                    throw .storage(operation: "open \(directory) for writing",
                                   message: "this process already has it open read-only (\(entry.environment.path)); close those stores first")
                }
                entry.users += 1
                entries[key] = entry
                return entry.environment
            }
            let environment = try LMDBEnvironment.open(path: directory, options: options)
            entries[key] = Entry(environment: environment, users: 1)
            return environment
        }
    }

    /// Gives back one use of `environment`, closing it after the last.
    static func release(_ environment: LMDBEnvironment) {
        open.withLock { entries in
            guard let (key, entry) = entries.first(where: { $0.value.environment === environment }) else { return }
            if entry.users > 1 {
                entries[key]?.users = entry.users - 1
            } else {
                entries[key] = nil
                environment.close()
            }
        }
    }
}
