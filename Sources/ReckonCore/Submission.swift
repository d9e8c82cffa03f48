/// The intent to write values to Waldur, committed durably *before* the HTTP call: the
/// targets, the amounts to set (absolute totals, never differences), the confirmed values they
/// were based on, and why. Its sequence number identifies the submission.
public struct SubmissionIntent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `set_usage` for one resource-month (only the components that changed).
        case totals
        /// `set_user_usages` under one ComponentUsage (its UUID).
        case userUsages(componentUsage: String)
    }

    public struct Item: Hashable, Sendable {
        public var target: UsageTarget
        public var amount: WaldurAmount
        /// The last confirmed Waldur value (nil: none known).
        public var basedOn: WaldurAmount?
        /// Offering-user URL sent with a user value, when known.
        public var userURL: String?

        public init(target: UsageTarget, amount: WaldurAmount, basedOn: WaldurAmount?, userURL: String? = nil) {
            self.target = target
            self.amount = amount
            self.basedOn = basedOn
            self.userURL = userURL
        }

        public var isDecrease: Bool { amount < (basedOn ?? .zero) }
    }

    public var offering: String
    public var kind: Kind
    public var resource: String
    public var month: BillingMonth
    /// The `date` sent (epoch seconds), chosen to land in `month` whatever the server's zone.
    public var date: EpochSeconds
    public var items: [Item]
    /// Job-run versions (sequence numbers) that changed this resource-month since its last
    /// confirmation, recorded for decreases so an auditor can see the cause.
    public var cause: [Sequence64]
    /// Unit factors, TRES source and time zone the amounts were computed with.
    public var configFingerprint: String
    /// True when sent with a staff token by `reckon backfill`.
    public var staff: Bool

    public init(offering: String, kind: Kind, resource: String, month: BillingMonth, date: EpochSeconds, items: [Item],
                cause: [Sequence64] = [], configFingerprint: String, staff: Bool = false) {
        self.offering = offering
        self.kind = kind
        self.resource = resource
        self.month = month
        self.date = date
        self.items = items
        self.cause = cause
        self.configFingerprint = configFingerprint
        self.staff = staff
    }
}

/// What the HTTP call of an intent returned.
public struct SubmissionOutcome: Hashable, Sendable {
    public enum Result: Hashable, Sendable {
        /// 201: Waldur took it (still to be confirmed by reading back).
        case accepted
        /// A definite refusal (400/401/403/404…): nothing was applied (calls are atomic).
        case rejected(status: Int, message: String)
        /// The past-month refusal for a non-staff token: needs `reckon backfill` with a staff token.
        case needsStaff(message: String)
        /// No answer (timeout, dropped connection, 5xx after retries): it may or may not have
        /// been applied; only a read-back can tell.
        case ambiguous(message: String)
    }

    public var intent: Sequence64
    public var result: Result

    public init(intent: Sequence64, result: Result) {
        self.intent = intent
        self.result = result
    }
}

/// The read-back that settles an intent: what Waldur holds for each of its targets, and whether
/// that equals the intended amounts (confirmed) or not (diverged).
public struct SubmissionConfirmation: Hashable, Sendable {
    public var intent: Sequence64
    public var observed: [ObservedValue]
    public var agreed: Bool

    public init(intent: Sequence64, observed: [ObservedValue], agreed: Bool) {
        self.intent = intent
        self.observed = observed
        self.agreed = agreed
    }
}

/// One value read from Waldur (nil amount: no record), with the ComponentUsage UUID of a total.
public struct ObservedValue: Hashable, Sendable {
    public var target: UsageTarget
    public var amount: WaldurAmount?
    public var componentUsage: String?

    public init(target: UsageTarget, amount: WaldurAmount?, componentUsage: String? = nil) {
        self.target = target
        self.amount = amount
        self.componentUsage = componentUsage
    }
}

/// A read-back of Waldur that found values other than the log's last confirmed ones (a first
/// sight, or a change made by someone else). Recorded only when something differs, so idle
/// ticks append nothing.
public struct WaldurObservation: Hashable, Sendable {
    public var offering: String
    public var month: BillingMonth
    public var values: [ObservedValue]

    public init(offering: String, month: BillingMonth, values: [ObservedValue]) {
        self.offering = offering
        self.month = month
        self.values = values
    }
}

/// A decrease reckon did not send because `reckon.decreases: hold` is set, with its cause.
public struct HeldDecrease: Hashable, Sendable {
    public var offering: String
    public var target: UsageTarget
    public var confirmed: WaldurAmount
    public var desired: WaldurAmount
    public var cause: [Sequence64]

    public init(offering: String, target: UsageTarget, confirmed: WaldurAmount, desired: WaldurAmount, cause: [Sequence64]) {
        self.offering = offering
        self.target = target
        self.confirmed = confirmed
        self.desired = desired
        self.cause = cause
    }
}
