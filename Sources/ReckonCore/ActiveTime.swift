/// How many seconds of a run count as *active* (billable) inside a window.
///
/// A run occupies wall time `[start, end)`. sacct reports only the *total* suspended time, not
/// when it happened, so reckon spreads the suspension evenly over the run: the active seconds up
/// to instant t are `F(t) = floor((t − start) × A / W)` with `W = end − start` and
/// `A = W − suspended`. Active seconds in `[a, b)` are `F(b) − F(a)` (clipped to the run).
/// Because F is one monotone function, any tiling of time into windows (months, or arbitrary
/// half-open windows) splits the run's `A` seconds exactly: the parts always sum to the whole,
/// with nothing lost or counted twice at an edge. Without suspension, F(t) = t − start exactly.
public enum ActiveTime {
    /// Active seconds of a run `[start, end)` with `suspended` seconds inside `[a, b)`.
    @inlinable
    public static func seconds(start: EpochSeconds, end: EpochSeconds, suspended: Int64,
                               within a: EpochSeconds, _ b: EpochSeconds) -> Int64 {
        let wall = end - start
        guard wall > 0 else { return 0 }
        let lo = Swift.min(Swift.max(a, start), end)
        let hi = Swift.min(Swift.max(b, start), end)
        guard hi > lo else { return 0 }
        let active = wall - Swift.min(Swift.max(suspended, 0), wall)
        if active == wall { return hi - lo }
        return cumulative(hi - start, active: active, wall: wall) - cumulative(lo - start, active: active, wall: wall)
    }

    @inlinable
    static func cumulative(_ elapsed: Int64, active: Int64, wall: Int64) -> Int64 {
        Int64((Int128(elapsed) * Int128(active)) / Int128(wall))
    }
}
