/// What the usage projection depends on besides the log: the time zone of month edges and the
/// TRES column billed. A change of either invalidates the persisted projection, which is then
/// rebuilt from the log; the fingerprint detects that.
public struct ProjectionSettings: Sendable {
    public let calendar: MonthCalendar
    public let tresSource: TRESSource

    public init(calendar: MonthCalendar, tresSource: TRESSource) {
        self.calendar = calendar
        self.tresSource = tresSource
    }

    /// Stored beside the projection; a mismatch means "rebuild".
    public var fingerprint: String {
        "v1;tz=\(calendar.timeZoneIdentifier);tres=\(tresSource.rawValue)"
    }
}
