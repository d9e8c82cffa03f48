/// How one job run turns into native usage: active seconds (see ``ActiveTime``) × TRES amount,
/// per billing month or inside any half-open window. Pure; the projections, `usage --from/--to`,
/// verification and audit all use these two functions, so they cannot disagree.
public enum UsageContribution {
    /// Visits `(key, TRES-seconds)` for every month the run was active in. A run without an end
    /// counts up to `observedUntil` (its last observation); a run that never started counts nothing.
    public static func forEachMonth(of run: JobRun, observedUntil: EpochSeconds?, settings: ProjectionSettings,
                                    _ body: (UsageKey, Int128) -> Void) {
        forEachMonthAndTRES(of: run, observedUntil: observedUntil, settings: settings) { month, tres, v in
            body(UsageKey(month: month, account: run.account, user: run.user, tres: tres), v)
        }
    }

    /// ``forEachMonth(of:observedUntil:settings:_:)`` without building a key: `(month, TRES, TRES-seconds)`;
    /// the account and user are the run's.
    public static func forEachMonthAndTRES(of run: JobRun, observedUntil: EpochSeconds?, settings: ProjectionSettings,
                                           _ body: (BillingMonth, String, Int128) -> Void) {
        guard let start = run.start, let tres = run.tres(settings.tresSource), !tres.isEmpty,
              let end = run.end ?? observedUntil, end > start else { return }
        settings.calendar.forEachMonth(overlapping: start, end) { month, part in
            let secs = ActiveTime.seconds(start: start, end: end, suspended: run.suspended, within: part.start, part.end)
            guard secs > 0 else { return }
            for e in tres.entries where e.amount != 0 {
                body(month, e.name, Int128(e.amount) * Int128(secs))
            }
        }
    }

    /// Visits `(tres, TRES-seconds)` of the run inside `window`.
    public static func forEachTRES(of run: JobRun, in window: TimeWindow, observedUntil: EpochSeconds?,
                                   tresSource: TRESSource, _ body: (String, Int128) -> Void) {
        guard let start = run.start, let tres = run.tres(tresSource), !tres.isEmpty,
              let end = run.end ?? observedUntil, end > start else { return }
        let secs = ActiveTime.seconds(start: start, end: end, suspended: run.suspended, within: window.start, window.end)
        guard secs > 0 else { return }
        for e in tres.entries where e.amount != 0 { body(e.name, Int128(e.amount) * Int128(secs)) }
    }
}
