import Foundation
import ReckonCore

/// The real wall clock, the production ``WallClock``.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> EpochSeconds { EpochSeconds(Date().timeIntervalSince1970.rounded(.down)) }
}
