/// The facts sacct gives about one run of one job allocation (`sacct -X -D`), as recorded in the
/// log. Two observations with equal facts are the same version; any difference (it ended, it was
/// requeued, an admin fixed its end time) is a new version that supersedes the old one.
///
/// Deliberately absent: `Elapsed` of a running job, which changes on every poll. Usage of a
/// running job is derived from `start` and the time of the last observation instead, so the log
/// does not grow with the number of polls.
public struct JobRun: Hashable, Sendable {
    public var identity: JobRunIdentity
    /// sacct's display id (`123`, `123_4`, `123+1`).
    public var jobID: String
    /// The SLURM account, lower-cased (Slurm stores accounts in lower case).
    public var account: String
    public var user: String
    /// The state as printed, including suffixes such as `CANCELLED by 1001`.
    public var state: String
    public var submit: EpochSeconds
    /// nil when the run never started (`Unknown`/`None`).
    public var start: EpochSeconds?
    /// nil while the run is still going (End `Unknown`).
    public var end: EpochSeconds?
    /// Total seconds the run spent suspended (sacct gives only the total).
    public var suspended: Int64
    /// nil when the source had no such column.
    public var allocTRES: TRESQuantities?
    public var reqTRES: TRESQuantities?

    public init(identity: JobRunIdentity, jobID: String, account: String, user: String, state: String,
                submit: EpochSeconds, start: EpochSeconds?, end: EpochSeconds?, suspended: Int64,
                allocTRES: TRESQuantities?, reqTRES: TRESQuantities?) {
        self.identity = identity
        self.jobID = jobID
        self.account = account
        self.user = user
        self.state = state
        self.submit = submit
        self.start = start
        self.end = end
        self.suspended = suspended
        self.allocTRES = allocTRES
        self.reqTRES = reqTRES
    }

    /// Started and not yet ended.
    public var isRunning: Bool { start != nil && end == nil }

    public func tres(_ source: TRESSource) -> TRESQuantities? {
        switch source {
        case .alloc: return allocTRES
        case .req: return reqTRES
        }
    }
}

/// Which TRES column is billed: `AllocTRES` (what was granted: exclusive nodes, all GPUs) by
/// default, or `ReqTRES` for parity with the site-agent.
public enum TRESSource: String, Sendable, CaseIterable {
    case alloc
    case req
}
