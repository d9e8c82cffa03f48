import Foundation
import ReckonCore

/// reckon's whole configuration: a waldur-site-agent YAML file read as is, plus reckon's own
/// optional top-level `reckon:` section. Keys of the agent's other modes are accepted and ignored.
public struct ReckonConfiguration: Sendable {
    /// The IANA zone of billing-month edges (`timezone`, default `UTC`).
    public var timeZoneIdentifier: String
    public var calendar: MonthCalendar
    /// Open billing months: the current one and `reporting_periods − 1` before it (1…12, default 2).
    public var reportingPeriods: Int
    public var offerings: [OfferingConfiguration]
    public var reckon: ReckonSettings

    public init(timeZoneIdentifier: String, calendar: MonthCalendar, reportingPeriods: Int,
                offerings: [OfferingConfiguration], reckon: ReckonSettings) {
        self.timeZoneIdentifier = timeZoneIdentifier
        self.calendar = calendar
        self.reportingPeriods = reportingPeriods
        self.offerings = offerings
        self.reckon = reckon
    }

    /// The projection settings implied by this configuration.
    public var projectionSettings: ProjectionSettings {
        ProjectionSettings(calendar: calendar, tresSource: reckon.usageTRES)
    }

    /// The offering named by UUID (hex with or without dashes, any case) or by name; nil = the first.
    public func offering(_ selector: String?) -> OfferingConfiguration? {
        guard let selector, !selector.isEmpty else { return offerings.first }
        let norm = OfferingConfiguration.normaliseUUID(selector)
        return offerings.first { OfferingConfiguration.normaliseUUID($0.offeringUUID) == norm } ?? offerings.first { $0.name == selector }
    }

    /// A configuration with no offerings, for commands run without `--config`.
    public static func defaults(timeZone: String = "UTC") -> ReckonConfiguration? {
        guard let cal = MonthCalendar(timeZoneIdentifier: timeZone) else { return nil }
        return ReckonConfiguration(timeZoneIdentifier: timeZone, calendar: cal, reportingPeriods: 2, offerings: [], reckon: ReckonSettings())
    }
}

/// One `offerings[]` entry: which Waldur offering, how to reach it, and how SLURM TRES map to its
/// components.
public struct OfferingConfiguration: Sendable {
    /// Position in `offerings[]`, for error messages.
    public var index: Int
    public var name: String
    public var apiURL: String
    public var token: SecretToken
    public var offeringUUID: String
    public var verifySSL: Bool
    public var backendType: String
    /// Directory holding sacct/sacctmgr (`backend_settings.slurm_bin_path`, default `/usr/bin`).
    public var slurmBinPath: String
    /// `backend_settings.cluster_name`; empty when not set.
    public var clusterName: String
    /// In file order.
    public var components: [Component]
    /// `reckon.allow_insecure_http`: plain `http` to a host that is not loopback is allowed (the
    /// token then crosses the network unencrypted). A site-wide choice, copied to every offering.
    public var allowInsecureHTTP = false

    public init(index: Int = 0, name: String, apiURL: String, token: SecretToken, offeringUUID: String, verifySSL: Bool = true,
                backendType: String = "slurm", slurmBinPath: String = "/usr/bin", clusterName: String = "",
                components: [Component]) {
        self.index = index
        self.name = name
        self.apiURL = apiURL
        self.token = token
        self.offeringUUID = offeringUUID
        self.verifySSL = verifySSL
        self.backendType = backendType
        self.slurmBinPath = slurmBinPath
        self.clusterName = clusterName
        self.components = components
    }

    public func component(named n: String) -> Component? { components.first { $0.name == n } }

    /// The offering UUID as 32 lower-case hex digits, or an error naming the key and value.
    public func validatedUUID() throws(ConfigError) -> String {
        let hex = Self.normaliseUUID(offeringUUID)
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else {
            throw ConfigError(path: "offerings[\(index)].waldur_offering_uuid",
                              message: "expected a UUID (32 hex digits, dashes optional), got \"\(offeringUUID)\"")
        }
        return hex
    }

    static func normaliseUUID(_ s: String) -> String {
        s.lowercased().filter { $0 != "-" && $0 != "{" && $0 != "}" }
    }
}

/// The optional top-level `reckon:` section: settings the site-agent does not have.
public struct ReckonSettings: Sendable, Equatable {
    /// Where the LMDB state lives; nil = the default (`/var/lib/reckon` as root, else
    /// `$XDG_STATE_HOME/reckon`).
    public var stateDirectory: String?
    /// `alloc` (default: AllocTRES, what was granted) or `req` (ReqTRES, the site-agent's choice).
    public var usageTRES: TRESSource = .alloc
    /// Largest LMDB map, in MiB (the map grows to it as needed).
    public var maxMapSizeMB: Int = 1_048_576
    /// Seconds before a hung sacct is killed.
    public var sacctTimeoutSeconds: Int = 600
    /// Minutes between daemon ticks (else `WALDUR_SITE_AGENT_REPORT_PERIOD_MINUTES`, else 30).
    public var intervalMinutes: Int?
    /// Each poll re-reads this many minutes before the last one, to catch late records.
    public var pollOverlapMinutes: Int = 60
    /// Minutes between full re-scans of the open months (late records, admin fixes).
    public var rescanMinutes: Int = 360
    /// Minutes between re-reads of Waldur's resources and offering users.
    public var directoryRefreshMinutes: Int = 60
    /// `send` (default) or `hold`: whether decreases are sent or held for review.
    public var holdDecreases: Bool = false
    /// The Waldur server's TIME_ZONE, when known (makes month-start writes possible sooner).
    public var waldurTimeZone: String?
    /// `host:port` for `/metrics` and `/healthz` (loopback by default); nil = off.
    public var metricsAddress: String?
    /// File written after every tick, daemon or `reckon sync` (default `<state_dir>/heartbeat`).
    public var heartbeatFile: String?
    /// Whether `waldur_api_url` may be plain `http` to a host that is not loopback (default no).
    public var allowInsecureHTTP = false

    public init() {}

    public static let knownKeys: Set<String> = ["state_dir", "usage_tres", "max_map_size_mb", "sacct_timeout_seconds", "interval_minutes",
                                                "poll_overlap_minutes", "rescan_minutes", "directory_refresh_minutes", "decreases",
                                                "waldur_time_zone", "metrics_address", "heartbeat_file", "allow_insecure_http"]
}
