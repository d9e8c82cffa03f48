import Foundation
import ReckonCore

/// The `reckon audit --json` document: one JSON object with a fixed key order (docs/audit.md).
/// Amounts are strings with two decimals (as Waldur stores them), native usage is a string of
/// digits (TRES-seconds; it can exceed 2^53), instants are epoch seconds with an ISO 8601 UTC
/// twin where a person reads them, and sequence numbers are numbers.
public enum AuditJSON {
    public static let format = 1

    public static func render(_ a: AuditReport) -> String {
        JSONText.object([
            ("audit_format", String(format)),
            ("account", JSONText.string(a.account)),
            ("month", JSONText.string(a.month.description)),
            ("window", a.window.map { JSONText.object([("start", String($0.start)), ("end", String($0.end))]) } ?? "null"),
            ("time_zone", JSONText.string(a.timeZone)),
            ("tres_source", JSONText.string(a.tresSource.rawValue)),
            ("component_filter", JSONText.optional(a.componentFilter)),
            ("event_count", String(a.eventCount)),
            ("offering", JSONText.optional(a.offering)),
            ("config_fingerprint", JSONText.optional(a.currentFingerprint)),
            ("components", list(a.components.map {
                JSONText.object([("name", JSONText.string($0.name)), ("unit_factor", JSONText.string($0.unitFactor)),
                                 ("measured_unit", JSONText.optional($0.measuredUnit))])
            })),
            ("resources", list(a.resources.map { r in
                JSONText.object([("uuid", JSONText.string(r.uuid)), ("offering", JSONText.string(r.offering)),
                                 ("backend_id", JSONText.string(r.backendID)), ("name", JSONText.string(r.name)),
                                 ("state", JSONText.string(r.state)), ("in_directory", bool(r.inDirectory)), ("primary", bool(r.primary)),
                                 ("confirmed", amounts(a.components.map(\.name), r.confirmed))])
            })),
            ("observed_until", JSONText.object(a.observedUntil.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) })),
            ("totals", list(a.totals.map {
                JSONText.object([("component", JSONText.string($0.component)), ("native", JSONText.string(String($0.native))),
                                 ("desired", amount($0.desired)), ("confirmed", amount($0.confirmed)), ("agrees", bool($0.agrees))])
            })),
            ("users", list(a.users.map {
                JSONText.object([("user", JSONText.string($0.user)), ("component", JSONText.string($0.component)),
                                 ("native", JSONText.string(String($0.native))), ("desired", amount($0.desired)),
                                 ("confirmed", amount($0.confirmed))])
            })),
            ("contributions", list(a.contributions.map { c in
                JSONText.object([("identity", JSONText.string(c.identity)), ("job_id", JSONText.string(c.jobID)),
                                 ("user", JSONText.string(c.user)), ("contributes_now", bool(c.contributesNow)),
                                 ("latest", version(c.latest, a)), ("superseded", list(c.superseded.map { version($0, a) }))])
            })),
            ("projection_check", JSONText.object([
                ("agrees", bool(a.projectionCheck.agrees)),
                ("differences", list(a.projectionCheck.differences.map {
                    JSONText.object([("user", JSONText.string($0.user)), ("tres", JSONText.string($0.tres)),
                                     ("contributions", JSONText.string(String($0.contributions))),
                                     ("projection", JSONText.string(String($0.projection)))])
                })),
            ])),
            ("submissions", list(a.submissions.map { submission($0, a) })),
            ("observations", list(a.observations.map { o in
                JSONText.object([("seq", String(o.sequence)), ("resource", JSONText.string(o.resource)),
                                 ("values", list(o.values.map { value($0.component, $0.user, $0.amount) }))])
            })),
            ("held", list(a.held.map {
                JSONText.object([("seq", String($0.sequence)), ("resource", JSONText.string($0.resource)),
                                 ("component", JSONText.string($0.component)), ("user", JSONText.optional($0.user)),
                                 ("confirmed", amount($0.confirmed)), ("desired", amount($0.desired)),
                                 ("cause", list($0.cause.map(String.init)))])
            })),
            ("series", list(a.series.map {
                JSONText.object([("month", JSONText.string($0.month.description)), ("component", JSONText.string($0.component)),
                                 ("desired", amount($0.desired)), ("confirmed", amount($0.confirmed))])
            })),
            ("notes", list(a.notes.map(JSONText.string))),
        ])
    }

    static func version(_ v: AuditRunVersion, _ a: AuditReport) -> String {
        JSONText.object([
            ("seq", String(v.sequence)), ("supersedes", v.supersedes.map(String.init) ?? "null"),
            ("account", JSONText.string(v.account)), ("state", JSONText.string(v.state)),
            ("submit", String(v.submit)), ("start", v.start.map(String.init) ?? "null"), ("end", v.end.map(String.init) ?? "null"),
            ("suspended", String(v.suspended)), ("tres", JSONText.optional(v.tres)),
            ("counted_until", v.countedUntil.map(String.init) ?? "null"),
            ("native", JSONText.object(a.components.compactMap { c in v.share.native[c.name].map { (c.name, JSONText.string(String($0))) } })),
            ("amounts", JSONText.object(a.components.compactMap { c in v.share.amounts[c.name].map { (c.name, JSONText.string($0.description)) } })),
        ])
    }

    static func submission(_ s: AuditSubmission, _ a: AuditReport) -> String {
        let kind: String
        switch s.kind {
        case .totals: kind = JSONText.string("set_usage")
        case .userUsages: kind = JSONText.string("set_user_usages")
        }
        let componentUsage: String
        if case .userUsages(let cu) = s.kind { componentUsage = JSONText.string(cu) } else { componentUsage = "null" }
        var outcome = "null"
        if let o = s.outcome {
            var pairs: [(String, String)] = [("seq", String(o.sequence))]
            switch o.result {
            case .accepted: pairs.append(("result", JSONText.string("accepted")))
            case .rejected(let st, let m): pairs += [("result", JSONText.string("rejected")), ("status", String(st)), ("message", JSONText.string(m))]
            case .needsStaff(let m): pairs += [("result", JSONText.string("needs_staff")), ("message", JSONText.string(m))]
            case .ambiguous(let m): pairs += [("result", JSONText.string("ambiguous")), ("message", JSONText.string(m))]
            }
            outcome = JSONText.object(pairs)
        }
        let confirmation = s.confirmation.map { c in
            JSONText.object([("seq", String(c.sequence)), ("agreed", bool(c.agreed)),
                             ("observed", list(c.observed.map { value($0.component, $0.user, $0.amount) }))])
        } ?? "null"
        let parts = AuditFingerprint.parse(s.configFingerprint)
        return JSONText.object([
            ("seq", String(s.sequence)), ("status", JSONText.string(s.status)), ("kind", kind), ("component_usage", componentUsage),
            ("offering", JSONText.string(s.offering)), ("resource", JSONText.string(s.resource)),
            ("date", String(s.date)), ("date_utc", JSONText.string(isoUTC(s.date))), ("staff", bool(s.staff)),
            ("after_sacct_observation", s.afterObservation.map {
                JSONText.object([("seq", String($0.sequence)), ("observed_at", String($0.observedAt)), ("observed_at_utc", JSONText.string(isoUTC($0.observedAt)))])
            } ?? "null"),
            ("config", JSONText.object([
                ("fingerprint", JSONText.string(s.configFingerprint)),
                ("time_zone", JSONText.optional(parts.timeZone)), ("tres_source", JSONText.optional(parts.tresSource)),
                ("unit_factors", JSONText.object(parts.unitFactors.map { ($0.component, JSONText.string($0.factor)) })),
                ("matches_current", a.currentFingerprint.map { bool($0 == s.configFingerprint) } ?? "null"),
            ])),
            ("cause", list(s.cause.map(String.init))),
            ("items", list(s.items.map {
                JSONText.object([("component", JSONText.string($0.component)), ("user", JSONText.optional($0.user)),
                                 ("amount", amount($0.amount)), ("based_on", amount($0.basedOn)), ("decrease", bool($0.isDecrease))])
            })),
            ("outcome", outcome),
            ("confirmation", confirmation),
        ])
    }

    static func value(_ component: String, _ user: String?, _ a: WaldurAmount?) -> String {
        JSONText.object([("component", JSONText.string(component)), ("user", JSONText.optional(user)), ("amount", amount(a))])
    }

    static func amounts(_ order: [String], _ values: [String: WaldurAmount]) -> String {
        JSONText.object(order.map { ($0, amount(values[$0])) })
    }

    static func amount(_ a: WaldurAmount?) -> String { a.map { JSONText.string($0.description) } ?? "null" }
    static func bool(_ b: Bool) -> String { b ? "true" : "false" }
    static func list(_ xs: [String]) -> String { "[" + xs.joined(separator: ",") + "]" }

    /// `2026-11-27T02:30:00Z`.
    public static func isoUTC(_ t: EpochSeconds) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}
