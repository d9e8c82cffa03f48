import ReckonCore

/// How events look to people and scripts (`reckon events`): one JSON object per event, or one
/// readable line.
public enum EventRendering {
    public static func json(_ e: StoredEvent) -> String {
        JSONText.object([("seq", String(e.sequence)), ("kind", JSONText.string(e.event.kindName)), ("payload", payloadJSON(e.event))])
    }

    static func payloadJSON(_ event: Event) -> String {
        switch event {
        case .jobRunObserved(let e):
            let r = e.run
            return JSONText.object([
                ("identity", JSONText.string(r.identity.description)),
                ("job_id", JSONText.string(r.jobID)),
                ("account", JSONText.string(r.account)),
                ("user", JSONText.string(r.user)),
                ("state", JSONText.string(r.state)),
                ("submit", String(r.submit)),
                ("start", r.start.map(String.init) ?? "null"),
                ("end", r.end.map(String.init) ?? "null"),
                ("suspended", String(r.suspended)),
                ("alloc_tres", JSONText.optional(r.allocTRES?.description)),
                ("req_tres", JSONText.optional(r.reqTRES?.description)),
                ("supersedes", e.supersedes.map(String.init) ?? "null"),
            ])
        case .sacctObserved(let o):
            let source: String
            switch o.source {
            case .sacct(let w): source = JSONText.object([("sacct_window", JSONText.object([("from", String(w.start)), ("to", String(w.end))]))])
            case .file(let n, let h): source = JSONText.object([("file", JSONText.string(n)), ("sha256", JSONText.string(h))])
            }
            let bad = "[" + o.malformed.map {
                JSONText.object([("line", String($0.line)), ("reason", JSONText.string($0.reason)), ("text", JSONText.string($0.text))])
            }.joined(separator: ",") + "]"
            return JSONText.object([
                ("source", source), ("cluster", JSONText.string(o.cluster)), ("observed_at", String(o.observedAt)),
                ("records", String(o.records)), ("skipped_steps", String(o.skippedSteps)),
                ("new_versions", String(o.newVersions)), ("unchanged", String(o.unchanged)),
                ("malformed_count", String(o.malformedCount)), ("malformed", bad),
            ])
        default:
            return WaldurEventRendering.payloadJSON(event)
        }
    }

    public static func text(_ e: StoredEvent) -> String {
        switch e.event {
        case .jobRunObserved(let j):
            let r = j.run
            let times = "start=\(r.start.map(String.init) ?? "-") end=\(r.end.map(String.init) ?? "running")"
            let sup = j.supersedes.map { " supersedes #\($0)" } ?? ""
            return "#\(e.sequence) job_run_observed \(r.identity) job=\(r.jobID) \(r.account)/\(r.user) \(r.state) \(times) tres=\(r.allocTRES?.description ?? "-")\(sup)"
        case .sacctObserved(let o):
            let src: String
            switch o.source {
            case .sacct(let w): src = "sacct [\(w.start),\(w.end))"
            case .file(let n, let h): src = "file \(n) sha256=\(h.prefix(12))…"
            }
            return "#\(e.sequence) sacct_observed \(src) cluster=\(o.cluster) at=\(o.observedAt) records=\(o.records) new=\(o.newVersions) unchanged=\(o.unchanged) steps=\(o.skippedSteps) malformed=\(o.malformedCount)"
        default:
            return "#\(e.sequence) \(e.event.kindName) " + WaldurEventRendering.summary(e.event)
        }
    }
}
