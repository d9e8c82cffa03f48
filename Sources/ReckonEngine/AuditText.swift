import ReckonCore

/// The readable `reckon audit` output for a terminal: the same facts as ``AuditJSON``, as
/// aligned tables, instants in the configured time zone.
public enum AuditText {
    public static func render(_ a: AuditReport) -> String {
        let time = AuditTime(timeZone: a.timeZone)
        var out: [String] = []
        let primary = a.primaryResource
        out.append("audit of \(a.account) for \(a.month) (\(a.timeZone)), TRES \(a.tresSource.rawValue), log of \(a.eventCount) events")
        if let p = primary { out.append("resource \(p.uuid) \"\(p.name)\" (\(p.state)) in offering \(p.offering)") }
        if let fp = a.currentFingerprint { out.append("current config: \(fp)") }

        out.append("\nTOTALS")
        var totals = PlainTable(headers: ["COMPONENT", "NATIVE", "DESIRED", "CONFIRMED", "AGREES"], rightAligned: [1, 2, 3])
        for t in a.totals {
            totals.add([t.component, String(t.native), t.desired?.description ?? "-", t.confirmed?.description ?? "none", t.agrees ? "yes" : "NO"])
        }
        out.append(totals.render())

        out.append("\nUSERS")
        var users = PlainTable(headers: ["USER", "COMPONENT", "NATIVE", "DESIRED", "CONFIRMED"], rightAligned: [2, 3, 4])
        for u in a.users { users.add([u.user, u.component, String(u.native), u.desired?.description ?? "-", u.confirmed?.description ?? "none"]) }
        out.append(a.users.isEmpty ? "(none)" : users.render())

        out.append("\nJOB RUNS (\(a.contributions.count); amounts rounded per run)")
        let names = a.components.map(\.name)
        var runs = PlainTable(headers: ["SEQ", "JOB", "USER", "STATE", "START", "END"] + names, rightAligned: Set(6..<(6 + names.count)))
        for c in a.contributions {
            for (i, v) in ([c.latest] + c.superseded).enumerated() {
                let end = v.end.map(time.string) ?? v.countedUntil.map { "running (to \(time.string($0)))" } ?? "running"
                runs.add(["#\(v.sequence)\(i > 0 ? " (old)" : "")", i == 0 ? c.jobID : "", i == 0 ? c.user : "",
                          v.state + (v.account != a.account ? " [account \(v.account)]" : ""), v.start.map(time.string) ?? "-", end]
                         + names.map { v.share.amounts[$0]?.description ?? "" })
            }
        }
        out.append(a.contributions.isEmpty ? "(none)" : runs.render())
        if !a.projectionCheck.agrees {
            out.append("WARNING: the runs do not add up to the stored projection for \(a.projectionCheck.differences.count) key(s)")
        }

        out.append("\nSUBMISSIONS (\(a.submissions.count))")
        for s in a.submissions {
            let kind: String
            switch s.kind { case .totals: kind = "set_usage"; case .userUsages(let cu): kind = "set_user_usages(\(cu))" }
            let items = s.items.map { "\($0.component)\($0.user.map { "/\($0)" } ?? "")=\($0.amount) (was \($0.basedOn?.description ?? "none"))" }
            out.append("#\(s.sequence) \(s.status.uppercased()) \(kind) date=\(time.string(s.date))\(s.staff ? " staff" : "") " + items.joined(separator: " "))
            if let o = s.outcome { out.append("    outcome #\(o.sequence): \(AuditHTML.describe(o.result))") } else { out.append("    no outcome recorded") }
            if let c = s.confirmation {
                out.append("    read-back #\(c.sequence): \(c.agreed ? "agreed" : "DIVERGED") " + c.observed.map { "\($0.component)\($0.user.map { "/\($0)" } ?? "")=\($0.amount?.description ?? "none")" }.joined(separator: " "))
            }
            let match = a.currentFingerprint.map { $0 == s.configFingerprint ? " (current)" : " (differs from current)" } ?? ""
            out.append("    config: \(s.configFingerprint)\(match)")
            if !s.cause.isEmpty { out.append("    cause: " + s.cause.map { "#\($0)" }.joined(separator: ", ")) }
        }
        for o in a.observations {
            out.append("observed #\(o.sequence) \(o.resource): " + o.values.map { "\($0.component)\($0.user.map { "/\($0)" } ?? "")=\($0.amount?.description ?? "none")" }.joined(separator: " "))
        }
        for h in a.held {
            out.append("held #\(h.sequence) \(h.component)\(h.user.map { "/\($0)" } ?? ""): confirmed \(h.confirmed), desired \(h.desired)")
        }
        for n in a.notes { out.append("note: \(n)") }
        return out.joined(separator: "\n")
    }
}
