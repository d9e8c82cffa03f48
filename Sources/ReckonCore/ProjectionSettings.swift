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

    /// The settings as one string (audit records it with every submission's configuration).
    public var fingerprint: String {
        "v1;tz=\(calendar.timeZoneIdentifier);tres=\(tresSource.rawValue)"
    }

    /// The layout of the persisted usage table: 2 is one record per owner-month
    /// (``UsageRecord``); 1 was one record per cell.
    public static let usageTableLayout = 2

    /// Stored beside the projection: the settings and the table layout it was built with; a
    /// mismatch means "rebuild" (a new layout costs no migration: the table is rebuilt from the log).
    public var storedFingerprint: String {
        "\(fingerprint);usage-table=\(Self.usageTableLayout)"
    }
}
