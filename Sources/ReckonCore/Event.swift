/// Sequence number of an event in the log: dense, starting at 0, never reused.
public typealias Sequence64 = UInt64

/// Everything reckon has ever observed or done, as immutable facts. The log of these is the
/// single source of truth; projections, plans and audits are functions of it.
///
/// Kinds (see ARCHITECTURE.md for the full table):
/// - ``JobRunObserved``: a new *version* of a job run (first sight, or its facts changed).
/// - ``SacctObservation``: one sacct poll or file import happened, with its counts, its
///   observation time (running jobs count up to it) and the malformed lines it met.
/// - ``DirectoryChange``: Waldur's resources or offering users of an offering changed.
/// - ``WaldurObservation``: a read-back found values other than the last confirmed ones.
/// - ``SubmissionIntent`` / ``SubmissionOutcome`` / ``SubmissionConfirmation``: the three steps
///   of every write to Waldur (intent before the call, its result, the read-back that settles it).
/// - ``HeldDecrease``: a decrease kept back for review.
public enum Event: Hashable, Sendable {
    case jobRunObserved(JobRunObserved)
    case sacctObserved(SacctObservation)
    case directoryChanged(DirectoryChange)
    case waldurObserved(WaldurObservation)
    case submissionIntended(SubmissionIntent)
    case submissionOutcome(SubmissionOutcome)
    case submissionConfirmed(SubmissionConfirmation)
    case decreaseHeld(HeldDecrease)

    /// A short stable name for output (`reckon events`).
    public var kindName: String {
        switch self {
        case .jobRunObserved: return "job_run_observed"
        case .sacctObserved: return "sacct_observed"
        case .directoryChanged: return "directory_changed"
        case .waldurObserved: return "waldur_observed"
        case .submissionIntended: return "submission_intended"
        case .submissionOutcome: return "submission_outcome"
        case .submissionConfirmed: return "submission_confirmed"
        case .decreaseHeld: return "decrease_held"
        }
    }
}

/// A new version of a job run. `supersedes` names the sequence number of the version it
/// replaces, so a projection can subtract the old contribution without keeping every run in
/// memory, and an audit can walk a run's history backwards.
public struct JobRunObserved: Hashable, Sendable {
    public var run: JobRun
    public var supersedes: Sequence64?

    public init(run: JobRun, supersedes: Sequence64?) {
        self.run = run
        self.supersedes = supersedes
    }
}

/// One observation of sacct output: a poll by the runner, or an imported dump.
public struct SacctObservation: Hashable, Sendable {
    public enum Source: Hashable, Sendable {
        /// reckon ran sacct itself over this half-open window.
        case sacct(window: TimeWindow)
        /// A saved dump; the file's base name and the SHA-256 of its content (hex).
        case file(name: String, sha256: String)
    }

    public var source: Source
    /// The cluster the observation covered (from the data, or the configured cluster name).
    public var cluster: String
    /// When sacct was run (or what `--observed-at` says for a dump). Running jobs count to here.
    public var observedAt: EpochSeconds
    /// Records read (job allocations), step rows skipped, versions appended, unchanged runs.
    public var records: UInt64
    public var skippedSteps: UInt64
    public var newVersions: UInt64
    public var unchanged: UInt64
    /// Total malformed records, and the first ones in full (capped, see ``maxKeptMalformed``).
    public var malformedCount: UInt64
    public var malformed: [MalformedRecord]

    public static let maxKeptMalformed = 100

    public init(source: Source, cluster: String, observedAt: EpochSeconds, records: UInt64 = 0,
                skippedSteps: UInt64 = 0, newVersions: UInt64 = 0, unchanged: UInt64 = 0,
                malformedCount: UInt64 = 0, malformed: [MalformedRecord] = []) {
        self.source = source
        self.cluster = cluster
        self.observedAt = observedAt
        self.records = records
        self.skippedSteps = skippedSteps
        self.newVersions = newVersions
        self.unchanged = unchanged
        self.malformedCount = malformedCount
        self.malformed = malformed
    }
}

/// A record of sacct output that could not be read: where it was, why, and the raw text.
public struct MalformedRecord: Hashable, Sendable, CustomStringConvertible {
    /// 1-based line number in the output (the first physical line of the record).
    public var line: UInt64
    public var reason: String
    public var text: String

    public init(line: UInt64, reason: String, text: String) {
        self.line = line
        self.reason = reason
        self.text = text
    }

    public var description: String { "line \(line): \(reason)" }
}

/// An event with its position in the log.
public struct StoredEvent: Hashable, Sendable {
    public let sequence: Sequence64
    public let event: Event

    public init(sequence: Sequence64, event: Event) {
        self.sequence = sequence
        self.event = event
    }
}

extension SacctObservation {
    /// The latest instant this observation speaks for: a sacct run over `[start, end)` knows the
    /// jobs up to `end` (or up to when it ran, if earlier); a dump, up to when it was observed.
    /// `reckon ingest --start 2026-10-01 --end 2026-11-01` run in December covers October only.
    public var coveredUntil: EpochSeconds {
        switch source {
        case .sacct(let window): return min(observedAt, window.end)
        case .file: return observedAt
        }
    }
}
