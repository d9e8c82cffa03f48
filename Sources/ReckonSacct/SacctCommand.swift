import ReckonCore

/// The exact sacct invocation reckon makes: an argument vector (never a shell line) and a
/// pinned environment, so output is unambiguous whatever the host's locale and zone.
///
/// One call per window for all accounts: `--allusers --allocations --duplicates` (every run of a
/// requeued job), `--parsable2 --noconvert` (exact MiB), a header line naming the fields, and
/// `TZ=UTC` with `SLURM_TIME_FORMAT=%s` so that `-S/-E` are read in UTC and times come back as
/// epoch seconds. No `--truncate`: the log keeps raw job facts and the projections clip.
public struct SacctCommand: Sendable, Equatable {
    public static let fields = ["JobIDRaw", "JobID", "DBIndex", "Cluster", "Account", "User", "State", "Submit",
                                "Start", "End", "ElapsedRaw", "Suspended", "AllocTRES", "ReqTRES"]

    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]

    /// - Parameters:
    ///   - binDirectory: `slurm_bin_path` (empty: rely on PATH).
    ///   - window: the half-open window; sacct's `-E` is given as the window end.
    ///   - cluster: `cluster_name`, passed as `--clusters` when set.
    ///   - truncate: only for verification (`sacct -T`), never for ingest.
    public init(binDirectory: String, window: TimeWindow, cluster: String?, truncate: Bool = false,
                fields: [String] = SacctCommand.fields, baseEnvironment: [String: String] = [:]) {
        let dir = binDirectory.hasSuffix("/") ? String(binDirectory.dropLast()) : binDirectory
        executable = dir.isEmpty ? "sacct" : dir + "/sacct"
        var args = ["--allusers", "--allocations", "--duplicates", "--parsable2", "--noconvert"]
        if truncate { args.append("--truncate") }
        if let cluster, !cluster.isEmpty { args.append("--clusters=\(cluster)") }
        args += ["--starttime=\(Self.utcString(window.start))", "--endtime=\(Self.utcString(window.end))",
                 "--format=\(fields.joined(separator: ","))"]
        arguments = args
        var env = baseEnvironment
        env["TZ"] = "UTC"
        env["SLURM_TIME_FORMAT"] = "%s"
        env["LC_ALL"] = "C"
        env.removeValue(forKey: "SACCT_FORMAT")
        env.removeValue(forKey: "SLURM_CLUSTERS")
        environment = env
    }

    /// `YYYY-MM-DDTHH:MM:SS` of an epoch second in UTC (what sacct reads under `TZ=UTC`).
    public static func utcString(_ t: EpochSeconds) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))"
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
