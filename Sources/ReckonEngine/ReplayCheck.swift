import ReckonCore

/// `reckon replay`: rebuilds the projection from sequence 0 in one read snapshot and compares it
/// with the live (persisted) one, key by key, bit for bit.
public struct ReplayCheck {
    public struct Result: Sendable {
        public var events: UInt64
        public var seconds: Double
        public var identical: Bool
        /// Human-readable differences (at most 20).
        public var differences: [String]
        public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
    }

    public static func run(_ ledger: Ledger, clock: () -> Double) throws -> Result {
        try ledger.store.read { r in
            let t0 = clock()
            let (replayed, n) = try UsageProjection.replay(r, settings: ledger.settings)
            let t1 = clock()
            let live = try UsageProjection.load(from: r, settings: ledger.settings)
            var diffs: [String] = []
            for k in Set(replayed.closed.keys).union(live.closed.keys).sorted() where replayed.closed[k] != live.closed[k] {
                if diffs.count < 20 {
                    diffs.append("usage \(k.month) \(k.account)/\(k.user)/\(k.tres): replay \(replayed.closed[k] ?? 0), live \(live.closed[k] ?? 0)")
                }
            }
            if replayed.open != live.open { diffs.append("open runs: replay \(replayed.open.count), live \(live.open.count)") }
            if replayed.observedUntil != live.observedUntil { diffs.append("observation marks differ: replay \(replayed.observedUntil), live \(live.observedUntil)") }
            return Result(events: n, seconds: t1 - t0, identical: replayed == live, differences: diffs)
        }
    }
}
