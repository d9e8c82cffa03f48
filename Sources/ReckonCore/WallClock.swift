/// The only way the engine learns the time. The core never reads a clock; adapters inject one,
/// and tests inject a fixed or stepping clock, so month rollovers and "running until now" are
/// deterministic.
public protocol WallClock: Sendable {
    func now() -> EpochSeconds
}

/// A clock that always says the same instant (tests, `--observed-at`).
public struct FixedClock: WallClock {
    public let instant: EpochSeconds
    public init(_ instant: EpochSeconds) { self.instant = instant }
    public func now() -> EpochSeconds { instant }
}
