/// Seconds since the Unix epoch, UTC. Every instant in reckon's log is one of these: sacct is
/// asked for epoch times, and ISO local times are converted at the edge with an explicit zone.
public typealias EpochSeconds = Int64

/// A half-open interval of time `[start, end)` in epoch seconds.
///
/// Billing months, `usage --from/--to` windows and sacct poll windows are all half-open, so
/// adjacent windows tile time exactly: no second is lost or counted twice at an edge
/// (the site-agent's `T23:59:59` end drops one second per month-crossing job).
public struct TimeWindow: Hashable, Sendable, CustomStringConvertible {
    public let start: EpochSeconds
    public let end: EpochSeconds

    /// Creates a window; `end` must not precede `start`.
    public init?(start: EpochSeconds, end: EpochSeconds) {
        guard end >= start else { return nil }
        self.start = start
        self.end = end
    }

    public var duration: Int64 { end - start }
    public var isEmpty: Bool { end == start }

    public func contains(_ t: EpochSeconds) -> Bool { t >= start && t < end }

    /// The overlap of two windows, or nil when they do not overlap.
    public func intersection(_ other: TimeWindow) -> TimeWindow? {
        let s = Swift.max(start, other.start)
        let e = Swift.min(end, other.end)
        return e > s ? TimeWindow(start: s, end: e) : nil
    }

    public var description: String { "[\(start), \(end))" }
}
