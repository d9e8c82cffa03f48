import ReckonCore

/// The lineage of one resource-month (`reckon audit`): every job-run version that contributed to
/// the SLURM account in the billing month and how much, the usage per user and component, every
/// submission to Waldur for the resource-month with its intent, outcome and confirmation, the
/// Waldur-side observations and held decreases, and the desired and confirmed values now and for
/// every month the log knows of the resource. Built by ``AuditQuery`` from one read snapshot of
/// the ledger; rendered by ``AuditJSON``, ``AuditText`` and ``AuditHTML``.
///
/// Wall time: events carry no timestamp of their own. What is known is the `date` an intent sent
/// to Waldur, the `observed_at` of sacct observations, and the order of the log; each submission
/// names the latest sacct observation recorded before it, which places it in the log's history.
public struct AuditReport: Sendable {
    /// The SLURM account, lower-cased (as the log stores accounts).
    public var account: String
    public var month: BillingMonth
    /// The month's half-open window in the configured time zone.
    public var window: TimeWindow?
    public var timeZone: String
    public var tresSource: TRESSource
    /// The component the audit is restricted to (`--component`), if any.
    public var componentFilter: String?
    /// The number of events in the snapshot the audit read (it reflects the log up to seq − 1).
    public var eventCount: UInt64
    /// What the current configuration would record as `configFingerprint` (nil without an offering).
    public var currentFingerprint: String?
    public var offering: String?
    public var components: [AuditComponent]
    public var resources: [AuditResource]
    /// Per cluster, the instant running runs are counted up to (the last sacct observation).
    public var observedUntil: [String: EpochSeconds]
    public var contributions: [AuditContribution]
    public var users: [AuditUserValue]
    public var totals: [AuditTotal]
    public var projectionCheck: AuditProjectionCheck
    public var submissions: [AuditSubmission]
    public var observations: [AuditObservation]
    public var held: [AuditHeld]
    public var series: [AuditSeriesPoint]
    public var notes: [String]

    /// The resource whose confirmed values the totals and the chart show.
    public var primaryResource: AuditResource? { resources.first(where: \.primary) }
}

/// A component as the audit converts it: the TRES, its unit factor and measured unit.
public struct AuditComponent: Sendable, Equatable {
    public var name: String
    public var unitFactor: String
    public var measuredUnit: String?
    public var component: Component

    public init(_ c: Component) {
        name = c.name
        unitFactor = c.unitFactor.description
        measuredUnit = c.measuredUnit
        component = c
    }
}

/// A Waldur resource whose backend_id is the audited account, as the recorded directories know
/// it (now or at some point of the log), with what Waldur was last seen to hold for the month.
public struct AuditResource: Sendable, Equatable {
    public var uuid: String
    public var offering: String
    public var backendID: String
    public var name: String
    public var state: String
    /// In the offering's directory now (false: removed from Waldur since).
    public var inDirectory: Bool
    /// The resource the totals and the chart are about.
    public var primary: Bool
    /// Component → the confirmed total for the month (absent: Waldur holds no record known to reckon).
    public var confirmed: [String: WaldurAmount]
}

/// One job-run version's share of the month: TRES-seconds and the Waldur amount per component,
/// the latter rounded on its own (totals are rounded once from the exact sum, so these amounts
/// need not add up to them).
public struct AuditShare: Sendable, Equatable {
    /// Component name → native TRES-seconds (memory in MiB-seconds) in the month.
    public var native: [String: Int128]
    public var amounts: [String: WaldurAmount]

    public var isEmpty: Bool { native.values.allSatisfy { $0 == 0 } }
}

/// One version of a job run: its facts and what it contributed (or, if superseded, used to).
public struct AuditRunVersion: Sendable, Equatable {
    public var sequence: Sequence64
    public var supersedes: Sequence64?
    public var account: String
    public var state: String
    public var submit: EpochSeconds
    public var start: EpochSeconds?
    public var end: EpochSeconds?
    public var suspended: Int64
    /// The billed TRES column (`AllocTRES` or `ReqTRES`, per the settings), as text.
    public var tres: String?
    /// For a run without an end: the instant it was counted up to (nil for ended runs).
    public var countedUntil: EpochSeconds?
    public var share: AuditShare
}

/// A job run that touches the account and month in its latest version, or did in an earlier one.
public struct AuditContribution: Sendable, Equatable {
    public var identity: String
    public var jobID: String
    public var user: String
    /// The latest version (the one the projection counts).
    public var latest: AuditRunVersion
    /// Earlier versions, newest first, each with what it contributed while it was the latest.
    public var superseded: [AuditRunVersion]
    /// Whether the latest version contributes to this account and month (false: only an earlier
    /// version did, e.g. before an admin corrected its times or account).
    public var contributesNow: Bool
}

/// Desired and confirmed value of one user's share of a component.
public struct AuditUserValue: Sendable, Equatable {
    public var user: String
    public var component: String
    public var native: Int128
    public var desired: WaldurAmount?
    public var confirmed: WaldurAmount?
}

/// Desired and confirmed total of one component for the month.
public struct AuditTotal: Sendable, Equatable {
    public var component: String
    public var native: Int128
    /// What the reconciler wants Waldur to hold (nil: the resource cannot be reported; see notes).
    public var desired: WaldurAmount?
    /// What Waldur was last seen to hold for the primary resource (nil: no record).
    public var confirmed: WaldurAmount?
    public var agrees: Bool { (desired ?? .zero) == (confirmed ?? .zero) }
}

/// Whether the per-run contributions add up to the persisted projection the reconciler reads.
public struct AuditProjectionCheck: Sendable, Equatable {
    /// (user, TRES) → (sum of contributions, projection) where they differ.
    public var differences: [(user: String, tres: String, contributions: Int128, projection: Int128)]
    public var agrees: Bool { differences.isEmpty }

    public static func == (a: Self, b: Self) -> Bool {
        a.differences.elementsEqual(b.differences) { $0.user == $1.user && $0.tres == $1.tres && $0.contributions == $1.contributions && $0.projection == $1.projection }
    }
}

/// One write to Waldur: the intent, its outcome and the read-back that settled it.
public struct AuditSubmission: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var component: String
        public var user: String?
        public var amount: WaldurAmount
        public var basedOn: WaldurAmount?
        public var isDecrease: Bool
    }

    public struct Outcome: Sendable, Equatable {
        public var sequence: Sequence64
        public var result: SubmissionOutcome.Result
    }

    public struct Confirmation: Sendable, Equatable {
        public var sequence: Sequence64
        public var agreed: Bool
        public var observed: [(component: String, user: String?, amount: WaldurAmount?)]

        public static func == (a: Self, b: Self) -> Bool {
            a.sequence == b.sequence && a.agreed == b.agreed
                && a.observed.elementsEqual(b.observed) { $0.component == $1.component && $0.user == $1.user && $0.amount == $1.amount }
        }
    }

    public var sequence: Sequence64
    public var offering: String
    public var resource: String
    public var kind: SubmissionIntent.Kind
    /// The `date` sent to Waldur (chosen to land in the month; not the wall time of sending).
    public var date: EpochSeconds
    public var staff: Bool
    public var configFingerprint: String
    /// The job-run versions recorded as the cause (for decreases).
    public var cause: [Sequence64]
    public var items: [Item]
    /// The latest sacct observation recorded before the intent: (sequence, observed_at).
    public var afterObservation: (sequence: Sequence64, observedAt: EpochSeconds)?
    public var outcome: Outcome?
    public var confirmation: Confirmation?

    /// `confirmed`, `diverged`, `rejected`, `needs_staff`, `unsettled` (accepted or ambiguous,
    /// not read back yet) or `interrupted` (no outcome recorded).
    public var status: String {
        if let c = confirmation { return c.agreed ? "confirmed" : "diverged" }
        switch outcome?.result {
        case .rejected?: return "rejected"
        case .needsStaff?: return "needs_staff"
        case .accepted?, .ambiguous?: return "unsettled"
        case nil: return "interrupted"
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.sequence == b.sequence && a.offering == b.offering && a.resource == b.resource && a.kind == b.kind && a.date == b.date
            && a.staff == b.staff && a.configFingerprint == b.configFingerprint && a.cause == b.cause && a.items == b.items
            && a.afterObservation?.sequence == b.afterObservation?.sequence && a.afterObservation?.observedAt == b.afterObservation?.observedAt
            && a.outcome == b.outcome && a.confirmation == b.confirmation
    }
}

/// A read-back that found Waldur holding other values than the last confirmed ones for the
/// resource-month (first sight, or a change made outside reckon).
public struct AuditObservation: Sendable, Equatable {
    public var sequence: Sequence64
    public var resource: String
    public var values: [(component: String, user: String?, amount: WaldurAmount?)]

    public static func == (a: Self, b: Self) -> Bool {
        a.sequence == b.sequence && a.resource == b.resource
            && a.values.elementsEqual(b.values) { $0.component == $1.component && $0.user == $1.user && $0.amount == $1.amount }
    }
}

/// A decrease kept back for review (`reckon.decreases: hold`).
public struct AuditHeld: Sendable, Equatable {
    public var sequence: Sequence64
    public var resource: String
    public var component: String
    public var user: String?
    public var confirmed: WaldurAmount
    public var desired: WaldurAmount
    public var cause: [Sequence64]
}

/// Desired and confirmed total of one component in one month: a point of the chart.
public struct AuditSeriesPoint: Sendable, Equatable {
    public var month: BillingMonth
    public var component: String
    public var desired: WaldurAmount?
    public var confirmed: WaldurAmount?
}
