import ReckonCore

/// reckon's state as the commands see it: the event store plus the settings its projection was
/// built with. Opening a ledger makes sure the persisted projection matches the current settings
/// (time zone, TRES source); if not, it is rebuilt from the log, which is the source of truth.
public final class Ledger: Sendable {
    public let store: any EventStore
    public let settings: ProjectionSettings

    /// Wraps a store; set `rebuildIfStale` to false for read-only stores.
    public init(store: any EventStore, settings: ProjectionSettings, rebuildIfStale: Bool = true) throws {
        self.store = store
        self.settings = settings
        if rebuildIfStale {
            _ = try rebuildProjectionIfStale()
            try catchUpUsage()
        }
    }

    /// Writes into the usage table the usage an import left pending (killed before its end);
    /// returns whether there was any. Readers see it either way (``UsageTable``).
    @discardableResult
    public func catchUpUsage() throws -> Bool {
        guard try store.read({ try UsageTable.pendingFrom($0) }) != nil else { return false }
        return try store.write { w in try UsageTable.catchUp(in: w, settings: settings) }
    }

    /// True when the stored projection was built with other settings (or never).
    public func projectionIsStale() throws -> Bool {
        try store.read { r in
            let fp = try r.meta(ProjectionMeta.fingerprint).map { String(decoding: $0, as: UTF8.self) }
            if fp == settings.storedFingerprint { return false }
            let count = try r.eventCount()
            return fp != nil || count > 0
        }
    }

    /// Rebuilds the projection tables from the log when stale; returns whether it did.
    @discardableResult
    public func rebuildProjectionIfStale() throws -> Bool {
        let stale = try projectionIsStale()
        let fresh = try store.read { r in
            let fp = try r.meta(ProjectionMeta.fingerprint)
            let count = try r.eventCount()
            return fp == nil && count == 0
        }
        if fresh {
            try store.write { w in try w.setMeta(ProjectionMeta.fingerprint, Array(settings.storedFingerprint.utf8)) }
            return false
        }
        guard stale else { return false }
        try store.write { w in
            let (p, _) = try UsageProjection.replay(w, settings: settings)
            try p.save(to: w, settings: settings)
        }
        return true
    }

    public var recorder: JobRunRecorder { JobRunRecorder(settings: settings) }
}
