import Foundation
import ReckonCore
import ReckonLMDB

/// Opens reckon's state directory as a ``Ledger`` on the LMDB event store.
///
/// Readers (`usage`, `events`, `replay`) open it read-only, so they work while a daemon writes;
/// a state directory that does not exist yet reads as empty instead of being created. A state
/// directory that group or others may write is refused (``FilePermissions/checkStateDirectory(_:)``).
public enum StateStore {
    public static func openLedger(directory: String, settings: ProjectionSettings, maxMapSizeMB: Int,
                                  readOnly: Bool) throws -> Ledger {
        try FilePermissions.checkStateDirectory(directory)
        let maxMap = maxMapSizeMB << 20
        if readOnly && !FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            return try Ledger(store: InMemoryEventStore(), settings: settings, rebuildIfStale: false)
        }
        let options = LMDBStoreOptions(initialMapSize: min(LMDBStoreOptions.gibibyte, maxMap), maxMapSize: maxMap,
                                       growthStep: min(LMDBStoreOptions.gibibyte, maxMap), readOnly: readOnly)
        let opened: Result<LMDBEventStore, EventStoreError>
        do { opened = .success(try LMDBEventStore(directory: directory, options: options)) } catch { opened = .failure(error) }
        if readOnly, case .failure(let e) = opened, e.isNeverWritten {
            // A writer was killed after LMDB created its files and before its first commit: there
            // is nothing in it yet, which reads as empty (the next writer initialises it).
            return try Ledger(store: InMemoryEventStore(), settings: settings, rebuildIfStale: false)
        }
        let store = try opened.get()
        if readOnly {
            let ledger = try Ledger(store: store, settings: settings, rebuildIfStale: false)
            if try ledger.projectionIsStale() {
                // A read-only reader cannot rebuild the stored projection; rebuild it in memory.
                let memory = InMemoryEventStore()
                // The log and the run index (which window queries read); the projection
                // tables are rebuilt from the log with the current settings.
                try store.read { r in
                    try memory.write { w in
                        try r.forEachEvent(from: 0) { _, buf in
                            _ = try w.append(Array(buf))
                            return true
                        }
                        try r.forEachEntry(in: .runs, prefix: []) { k, v in
                            try w.put(v, in: .runs, key: k)
                            return true
                        }
                    }
                }
                return try Ledger(store: memory, settings: settings, rebuildIfStale: true)
            }
            return ledger
        }
        return try Ledger(store: store, settings: settings)
    }
}

extension EventStoreError {
    /// The read-only open of an LMDB environment whose first write transaction never committed.
    var isNeverWritten: Bool {
        if case .storage(_, let message) = self { return message == "the event store has never been written" }
        return false
    }
}
