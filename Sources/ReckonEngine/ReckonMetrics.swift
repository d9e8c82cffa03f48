import Metrics
import ReckonCore

/// The daemon's metrics, through swift-metrics (the executable bootstraps a Prometheus backend):
/// ticks, rows ingested, events appended, writes by outcome, last successful tick, pending intents.
public struct ReckonMetrics: Sendable {
    public init() {}

    public func record(_ r: ReconcileTick.Result, eventsAppended: UInt64, pendingIntents: Int, now: EpochSeconds) {
        Counter(label: "reckon_ticks_total", dimensions: [("result", r.ok ? "ok" : "error")]).increment()
        if let i = r.ingest {
            Counter(label: "reckon_rows_ingested_total").increment(by: Int64(i.records))
            Counter(label: "reckon_job_versions_total").increment(by: Int64(i.newVersions))
            Counter(label: "reckon_malformed_records_total").increment(by: Int64(i.malformedCount))
            Counter(label: "reckon_rows_recalled_total").increment(by: Int64(i.recalled))   // skipped unread: the daemon's line memory
        }
        Counter(label: "reckon_events_appended_total").increment(by: Int64(eventsAppended))
        for rep in r.reports {
            for (outcome, n) in [("accepted", rep.accepted), ("rejected", rep.rejected), ("needs_staff", rep.needsStaff), ("ambiguous", rep.ambiguous),
                                 ("confirmed", rep.confirmed), ("diverged", rep.diverged)] where n > 0 {
                Counter(label: "reckon_writes_total", dimensions: [("outcome", outcome)]).increment(by: Int64(n))
            }
        }
        Gauge(label: "reckon_pending_intents").record(Double(pendingIntents))
        if r.ok { Gauge(label: "reckon_last_successful_tick_timestamp_seconds").record(Double(now)) }
        Gauge(label: "reckon_last_tick_timestamp_seconds").record(Double(now))
    }
}
