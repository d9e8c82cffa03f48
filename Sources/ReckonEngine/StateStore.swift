import Foundation
import ReckonCore
import ReckonLMDB

/// Opens reckon's state directory as a ``Ledger`` on the LMDB event store.
///
/// Readers (`usage`, `events`, `replay`) open it read-only, so they work while a daemon writes;
/// a state directory that does not exist yet reads as empty instead of being created.
public enum StateStore {
    public static func openLedger(directory: String, settings: ProjectionSettings, maxMapSizeMB: Int,
                                  readOnly: Bool) throws -> Ledger {
        let maxMap = maxMapSizeMB << 20
        if readOnly && !FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            return try Ledger(store: InMemoryEventStore(), settings: settings, rebuildIfStale: false)
        }
        let options = LMDBStoreOptions(initialMapSize: min(LMDBStoreOptions.gibibyte, maxMap), maxMapSize: maxMap,
                                       growthStep: min(LMDBStoreOptions.gibibyte, maxMap), readOnly: readOnly)
        let store = try LMDBEventStore(directory: directory, options: options)
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
