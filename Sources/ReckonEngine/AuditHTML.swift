import ReckonCore

/// The `reckon audit --html` page: one self-contained HTML document (inline CSS, inline SVG, no
/// script, no external fetch) with the totals, one ``AuditChart`` per component, and the lineage
/// tables. Instants are shown in the configured time zone.
public enum AuditHTML {
    public static func render(_ a: AuditReport) -> String {
        let time = AuditTime(timeZone: a.timeZone)
        let names = a.components.map(\.name)
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>reckon audit: \(escape(a.account)) \(a.month)</title>
        <style>\(css)</style>
        </head>
        <body>

        """
        // Header.
        h += "<header><h1>Audit of <code>\(escape(a.account))</code> for \(a.month)</h1>\n<p class=\"meta\">"
        if let w = a.window { h += "Month window \(escape(time.string(w.start))) to \(escape(time.string(w.end))) (\(escape(a.timeZone))). " }
        h += "Billed TRES column: \(escape(a.tresSource.rawValue)). Read from a log of \(a.eventCount) events.</p>\n"
        if let p = a.primaryResource {
            h += "<p class=\"meta\">Waldur resource <code>\(escape(p.uuid))</code> “\(escape(p.name))” (\(escape(p.state))\(p.inDirectory ? "" : ", removed")), offering <code>\(escape(p.offering))</code>.</p>\n"
        }
        if let fp = a.currentFingerprint { h += "<p class=\"meta\">Current configuration: <code>\(escape(fp))</code></p>\n" }
        h += "</header>\n"
        if !a.notes.isEmpty {
            h += "<section id=\"notes\" class=\"notes\"><ul>" + a.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        }

        // Totals.
        h += "<section id=\"totals\"><h2>Desired now vs confirmed now</h2>\n<table><thead><tr><th>Component</th><th>Unit</th><th class=\"n\">Native (TRES-s)</th><th class=\"n\">Desired</th><th class=\"n\">Confirmed</th><th>Agrees</th></tr></thead><tbody>\n"
        for t in a.totals {
            let unit = a.components.first { $0.name == t.component }?.measuredUnit ?? ""
            h += "<tr><td><code>\(escape(t.component))</code></td><td>\(escape(unit))</td><td class=\"n\">\(t.native)</td><td class=\"n\">\(t.desired?.description ?? "–")</td><td class=\"n\">\(t.confirmed?.description ?? "none")</td><td>\(badge(t.agrees ? "yes" : "no", t.agrees ? "ok" : "bad"))</td></tr>\n"
        }
        h += "</tbody></table></section>\n"

        // Charts.
        let first = a.series.first?.month.description ?? "", last = a.series.last?.month.description ?? ""
        h += "<section id=\"chart\"><h2>Desired vs confirmed by month (\(first) … \(last))</h2>\n"
        for c in a.components {
            h += "<figure>" + AuditChart.svg(component: c, points: a.series.filter { $0.component == c.name }, highlight: a.month) + "</figure>\n"
        }
        h += "</section>\n"

        // Resources.
        h += "<section id=\"resources\"><h2>Waldur resources with this backend_id</h2>\n"
        if a.resources.isEmpty { h += "<p>None recorded.</p>" } else {
            h += "<table><thead><tr><th>UUID</th><th>Name</th><th>State</th><th>In directory</th><th>Primary</th>" + names.map { "<th class=\"n\">\(escape($0)) confirmed</th>" }.joined() + "</tr></thead><tbody>\n"
            for r in a.resources {
                h += "<tr><td><code>\(escape(r.uuid))</code></td><td>\(escape(r.name))</td><td>\(escape(r.state))</td><td>\(r.inDirectory ? "yes" : "no")</td><td>\(r.primary ? "yes" : "")</td>"
                    + names.map { "<td class=\"n\">\(r.confirmed[$0]?.description ?? "none")</td>" }.joined() + "</tr>\n"
            }
            h += "</tbody></table>"
        }
        h += "</section>\n"

        // Users.
        h += "<section id=\"users\"><h2>Per user</h2>\n"
        if a.users.isEmpty { h += "<p>No usage and no user values.</p>" } else {
            h += "<table><thead><tr><th>User</th><th>Component</th><th class=\"n\">Native (TRES-s)</th><th class=\"n\">Desired</th><th class=\"n\">Confirmed</th></tr></thead><tbody>\n"
            for u in a.users {
                h += "<tr><td>\(escape(u.user))</td><td><code>\(escape(u.component))</code></td><td class=\"n\">\(u.native)</td><td class=\"n\">\(u.desired?.description ?? "–")</td><td class=\"n\">\(u.confirmed?.description ?? "none")</td></tr>\n"
            }
            h += "</tbody></table>"
        }
        h += "</section>\n"

        // Job runs.
        h += "<section id=\"runs\"><h2>Job runs that contributed (\(a.contributions.count))</h2>\n"
        h += "<p class=\"meta\">Each run's amount is rounded on its own; totals are rounded once from the exact sum. Earlier versions (superseded) are shown greyed with what they contributed while they were the latest.\(a.projectionCheck.agrees ? " The runs add up exactly to the stored projection." : "")</p>\n"
        if !a.projectionCheck.agrees {
            h += "<p class=\"bad\">The runs do not add up to the stored projection for \(a.projectionCheck.differences.count) (user, TRES) key(s).</p>\n"
        }
        if !a.contributions.isEmpty {
            h += "<table class=\"runs\"><thead><tr><th>Seq</th><th>Job</th><th>User</th><th>State</th><th>Start</th><th>End</th><th>TRES</th>" + names.map { "<th class=\"n\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
            for c in a.contributions {
                for (i, v) in ([c.latest] + c.superseded).enumerated() {
                    let end = v.end.map { escape(time.string($0)) } ?? v.countedUntil.map { "running, counted to " + escape(time.string($0)) } ?? "running"
                    let state = escape(v.state) + (v.account != a.account ? " <span class=\"bad\">(account \(escape(v.account)))</span>" : "")
                    let seq = "#\(v.sequence)" + (v.supersedes.map { " <span class=\"dim\">replaces #\($0)</span>" } ?? "")
                    h += "<tr class=\"\(i == 0 ? (c.contributesNow ? "latest" : "latest gone") : "old")\"><td>\(seq)</td><td>\(i == 0 ? escape(c.jobID) : "")</td><td>\(i == 0 ? escape(c.user) : "")</td><td>\(state)</td><td>\(v.start.map { escape(time.string($0)) } ?? "–")</td><td>\(end)</td><td class=\"tres\">\(escape(v.tres ?? "–"))</td>"
                        + names.map { "<td class=\"n\">\(v.share.amounts[$0]?.description ?? "")</td>" }.joined() + "</tr>\n"
                }
            }
            h += "</tbody></table>"
        }
        h += "</section>\n"

        // Submissions.
        h += "<section id=\"submissions\"><h2>Submissions to Waldur (\(a.submissions.count))</h2>\n"
        h += "<p class=\"meta\">Events carry no wall time: <em>date</em> is the date sent to Waldur (chosen to fall in the month), and <em>after sacct</em> is the latest sacct observation recorded before the intent.</p>\n"
        if !a.submissions.isEmpty {
            h += "<table class=\"subs\"><thead><tr><th>Intent</th><th>Status</th><th>Kind</th><th>Date sent</th><th>After sacct</th><th>Values (was → new)</th><th>Outcome</th><th>Read-back</th><th>Config</th></tr></thead><tbody>\n"
            for s in a.submissions {
                let kind: String
                switch s.kind {
                case .totals: kind = "set_usage"
                case .userUsages(let cu): kind = "set_user_usages<br><code class=\"dim\">\(escape(String(cu.prefix(8))))…</code>"
                }
                let items = s.items.map { "<code>\(escape($0.component))\($0.user.map { "/" + escape($0) } ?? "")</code> \($0.basedOn?.description ?? "none") → <b>\($0.amount)</b>\($0.isDecrease ? " <span class=\"bad\">↓</span>" : "")" }.joined(separator: "<br>")
                let outcome = s.outcome.map { "#\($0.sequence) " + escape(describe($0.result)) } ?? "none recorded"
                let readBack = s.confirmation.map { c in
                    "#\(c.sequence) " + (c.agreed ? "agreed" : "<span class=\"bad\">diverged</span>") + "<br>" + c.observed.map { "<code>\(escape($0.component))\($0.user.map { "/" + escape($0) } ?? "")</code>=\($0.amount?.description ?? "none")" }.joined(separator: "<br>")
                } ?? "–"
                let parts = AuditFingerprint.parse(s.configFingerprint)
                let factors = parts.unitFactors.map { "\(escape($0.component))÷\(escape($0.factor))" }.joined(separator: ", ")
                let matches = a.currentFingerprint.map { $0 == s.configFingerprint ? badge("current", "ok") : badge("differs", "bad") } ?? ""
                let config = "tz \(escape(parts.timeZone ?? "?")), \(escape(parts.tresSource ?? "?"))<br>\(factors) \(matches)"
                let cause = s.cause.isEmpty ? "" : "<br><span class=\"dim\">cause " + s.cause.map { "#\($0)" }.joined(separator: ", ") + "</span>"
                h += "<tr><td>#\(s.sequence)\(s.staff ? " <span class=\"dim\">staff</span>" : "")\(cause)</td><td>\(badge(s.status, s.status == "confirmed" ? "ok" : "bad"))</td><td>\(kind)</td><td>\(escape(time.string(s.date)))</td><td>\(s.afterObservation.map { "#\($0.sequence) " + escape(time.string($0.observedAt)) } ?? "–")</td><td>\(items)</td><td>\(outcome)</td><td>\(readBack)</td><td class=\"cfg\">\(config)</td></tr>\n"
            }
            h += "</tbody></table>"
        }
        h += "</section>\n"

        // Observations and held decreases.
        if !a.observations.isEmpty || !a.held.isEmpty {
            h += "<section id=\"observed\"><h2>Waldur-side observations and held decreases</h2>\n<ul>"
            for o in a.observations {
                h += "<li>#\(o.sequence) read-back found " + o.values.map { "<code>\(escape($0.component))\($0.user.map { "/" + escape($0) } ?? "")</code>=\($0.amount?.description ?? "none")" }.joined(separator: ", ") + "</li>"
            }
            for x in a.held {
                h += "<li>#\(x.sequence) held decrease of <code>\(escape(x.component))\(x.user.map { "/" + escape($0) } ?? "")</code>: confirmed \(x.confirmed), desired \(x.desired)</li>"
            }
            h += "</ul></section>\n"
        }
        h += "<footer>Generated by <code>reckon audit</code>. Every figure is a function of the event log; run <code>reckon audit --json</code> for the same data.</footer>\n</body>\n</html>\n"
        return h
    }

    /// An outcome in words.
    public static func describe(_ r: SubmissionOutcome.Result) -> String {
        switch r {
        case .accepted: return "accepted"
        case .rejected(let s, let m): return "rejected \(s): \(m)"
        case .needsStaff(let m): return "needs a staff token: \(m)"
        case .ambiguous(let m): return "no clear answer: \(m)"
        }
    }

    static func badge(_ text: String, _ kind: String) -> String { "<span class=\"badge \(kind)\">\(escape(text))</span>" }

    /// Escapes text for HTML and SVG content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
    body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;color:#111827;background:#ffffff;margin:24px auto;max-width:1120px;padding:0 16px;font-size:14px;line-height:1.45}
    h1{font-size:22px;margin:0 0 6px}h1 code{font-size:0.9em}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
    code{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12.5px}
    .meta{color:#4b5563;margin:2px 0}.dim{color:#6b7280}.bad{color:#b91c1c}
    table{border-collapse:collapse;width:100%;margin:4px 0 8px}th,td{border:1px solid #e5e7eb;padding:4px 7px;text-align:left;vertical-align:top}
    th{background:#f3f4f6;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
    tr.old td{color:#6b7280;background:#fafafa}tr.gone td{text-decoration:line-through}td.tres{font-size:12px;word-break:break-all;max-width:220px}
    td.cfg{font-size:12px}table.subs td{font-size:13px}
    .badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600}.badge.ok{background:#dcfce7;color:#166534}.badge.bad{background:#fee2e2;color:#991b1b}
    .notes{background:#fffbeb;border:1px solid #fde68a;padding:4px 12px;border-radius:6px}
    figure{margin:8px 0}svg.chart{display:block;max-width:100%;height:auto;border:1px solid #e5e7eb}
    svg .chart-title{font-size:14px;font-weight:600;fill:#111827}svg .legend{font-size:13px;fill:#111827}svg .tick{font-size:11px;fill:#4b5563}svg .tick.audited{font-weight:700;fill:#111827}
    footer{margin-top:28px;color:#6b7280;font-size:12px}
    """
}
