import ReckonCore

/// The job runs behind one account-month: a scan of the run index (the latest version of every
/// run, as `UsageQuery.nativeUsage(window:)` does), each run's history walked back through
/// `supersedes`, and every version's native usage in the month from
/// ``UsageContribution/forEachMonth(of:observedUntil:settings:_:)``, the projection's own
/// arithmetic. A run is kept when its latest version, or any earlier one, touches the account
/// in the month. Shares hold every TRES; ``AuditQuery`` restricts them to the components.
enum AuditRunLineage {
    static func collect(_ reader: any EventStoreReader, account: String, month: BillingMonth, window: TimeWindow,
                        settings: ProjectionSettings, marks: [String: EpochSeconds], scan: AuditLogScan) throws -> [AuditContribution] {
        var out: [AuditContribution] = []
        try reader.forEachEntry(in: .runs, prefix: []) { _, v in
            guard let seq = StoreBytes.u64(v), case .jobRunObserved(let latest)? = try reader.event(at: seq) else {
                throw EventStoreError.corrupt("run index points at no job run")
            }
            // Cheap exits: a run with no history that is not of this account or not in the month.
            if latest.supersedes == nil && (latest.run.account != account || !overlaps(latest.run, window, marks)) { return true }
            var versions: [(sequence: Sequence64, observed: JobRunObserved)] = [(seq, latest)]
            var previous = latest.supersedes
            while let p = previous {
                guard case .jobRunObserved(let old)? = try reader.event(at: p) else {
                    throw EventStoreError.corrupt("event \(versions.last!.sequence) supersedes \(p), which is not a job run")
                }
                versions.append((p, old))
                previous = old.supersedes
            }
            var rendered: [AuditRunVersion] = []
            for (i, v) in versions.enumerated() {
                // The latest counts up to the cluster's current mark; an earlier running version
                // counted up to the mark in force when the next version replaced it.
                let until: EpochSeconds? = v.observed.run.end != nil ? nil
                    : i == 0 ? marks[v.observed.run.identity.cluster]
                    : scan.observedUntil(cluster: v.observed.run.identity.cluster, before: versions[i - 1].sequence)
                rendered.append(version(v.sequence, v.observed, account: account, month: month, until: until, settings: settings))
            }
            let touches = rendered.contains { $0.account == account && !$0.share.isEmpty }
            guard touches, let head = rendered.first else { return true }
            let run = latest.run
            out.append(AuditContribution(identity: run.identity.description, jobID: run.jobID, user: run.user, latest: head,
                                         superseded: Array(rendered.dropFirst()),
                                         contributesNow: head.account == account && !head.share.isEmpty))
            return true
        }
        return out.sorted { ($0.latest.start ?? $0.latest.submit, $0.latest.sequence) < ($1.latest.start ?? $1.latest.submit, $1.latest.sequence) }
    }

    static func overlaps(_ run: JobRun, _ window: TimeWindow, _ marks: [String: EpochSeconds]) -> Bool {
        guard let s = run.start, s < window.end else { return false }
        return (run.end ?? marks[run.identity.cluster] ?? s) > window.start
    }

    static func version(_ sequence: Sequence64, _ o: JobRunObserved, account: String, month: BillingMonth,
                        until: EpochSeconds?, settings: ProjectionSettings) -> AuditRunVersion {
        var native: [String: Int128] = [:]
        if o.run.account == account {
            UsageContribution.forEachMonth(of: o.run, observedUntil: until, settings: settings) { k, v in
                if k.month == month { native[k.tres, default: 0] += v }
            }
        }
        let r = o.run
        return AuditRunVersion(sequence: sequence, supersedes: o.supersedes, account: r.account, state: r.state, submit: r.submit,
                               start: r.start, end: r.end, suspended: r.suspended, tres: r.tres(settings.tresSource)?.description,
                               countedUntil: r.end == nil ? until : nil, share: AuditShare(native: native, amounts: [:]))
    }
}
