import ReckonCore

/// JSON and one-line text for the Waldur-side events (directory, observations, submissions).
enum WaldurEventRendering {
    static func target(_ t: UsageTarget) -> String {
        JSONText.object([("resource", JSONText.string(t.resource)), ("month", JSONText.string(t.month.description)),
                         ("component", JSONText.string(t.component)), ("user", JSONText.optional(t.user))])
    }

    static func amount(_ a: WaldurAmount?) -> String { a.map { JSONText.string($0.description) } ?? "null" }

    static func observed(_ v: ObservedValue) -> String {
        JSONText.object([("target", target(v.target)), ("amount", amount(v.amount)), ("component_usage", JSONText.optional(v.componentUsage))])
    }

    static func list(_ xs: [String]) -> String { "[" + xs.joined(separator: ",") + "]" }

    static func payloadJSON(_ event: Event) -> String {
        switch event {
        case .jobRunObserved, .sacctObserved:
            return "{}"
        case .directoryChanged(let c):
            return JSONText.object([
                ("offering", JSONText.string(c.offering)),
                ("resources", list(c.upsertedResources.map {
                    JSONText.object([("uuid", JSONText.string($0.uuid)), ("backend_id", JSONText.string($0.backendID)),
                                     ("state", JSONText.string($0.state)), ("name", JSONText.string($0.name))])
                })),
                ("removed_resources", list(c.removedResources.map(JSONText.string))),
                ("users", list(c.upsertedUsers.map { JSONText.object([("username", JSONText.string($0.username)), ("url", JSONText.string($0.url))]) })),
                ("removed_users", list(c.removedUsers.map(JSONText.string))),
            ])
        case .waldurObserved(let o):
            return JSONText.object([("offering", JSONText.string(o.offering)), ("month", JSONText.string(o.month.description)),
                                    ("values", list(o.values.map(observed)))])
        case .submissionIntended(let i):
            let kind: String
            switch i.kind {
            case .totals: kind = JSONText.string("set_usage")
            case .userUsages(let cu): kind = JSONText.object([("set_user_usages", JSONText.string(cu))])
            }
            return JSONText.object([
                ("offering", JSONText.string(i.offering)), ("kind", kind), ("resource", JSONText.string(i.resource)),
                ("month", JSONText.string(i.month.description)), ("date", String(i.date)),
                ("items", list(i.items.map {
                    JSONText.object([("target", target($0.target)), ("amount", amount($0.amount)), ("based_on", amount($0.basedOn)),
                                     ("user_url", JSONText.optional($0.userURL))])
                })),
                ("cause", list(i.cause.map(String.init))), ("config", JSONText.string(i.configFingerprint)), ("staff", i.staff ? "true" : "false"),
            ])
        case .submissionOutcome(let o):
            var pairs: [(String, String)] = [("intent", String(o.intent))]
            switch o.result {
            case .accepted: pairs.append(("result", JSONText.string("accepted")))
            case .rejected(let s, let m): pairs += [("result", JSONText.string("rejected")), ("status", String(s)), ("message", JSONText.string(m))]
            case .needsStaff(let m): pairs += [("result", JSONText.string("needs_staff")), ("message", JSONText.string(m))]
            case .ambiguous(let m): pairs += [("result", JSONText.string("ambiguous")), ("message", JSONText.string(m))]
            }
            return JSONText.object(pairs)
        case .submissionConfirmed(let c):
            return JSONText.object([("intent", String(c.intent)), ("agreed", c.agreed ? "true" : "false"), ("observed", list(c.observed.map(observed)))])
        case .decreaseHeld(let h):
            return JSONText.object([("offering", JSONText.string(h.offering)), ("target", target(h.target)), ("confirmed", amount(h.confirmed)),
                                    ("desired", amount(h.desired)), ("cause", list(h.cause.map(String.init)))])
        }
    }

    static func summary(_ event: Event) -> String {
        switch event {
        case .jobRunObserved, .sacctObserved: return ""
        case .directoryChanged(let c):
            return "offering=\(c.offering) +\(c.upsertedResources.count) resources -\(c.removedResources.count), +\(c.upsertedUsers.count) users -\(c.removedUsers.count)"
        case .waldurObserved(let o):
            return "offering=\(o.offering) month=\(o.month) " + o.values.map { "\($0.target)=\($0.amount?.description ?? "none")" }.joined(separator: " ")
        case .submissionIntended(let i):
            let k: String
            switch i.kind { case .totals: k = "set_usage"; case .userUsages(let cu): k = "set_user_usages(\(cu))" }
            return "\(k) \(i.resource) \(i.month) " + i.items.map { "\($0.target.component)\($0.target.user.map { "/\($0)" } ?? "")=\($0.amount) (was \($0.basedOn?.description ?? "none"))" }.joined(separator: " ")
        case .submissionOutcome(let o):
            switch o.result {
            case .accepted: return "#\(o.intent) accepted"
            case .rejected(let s, let m): return "#\(o.intent) rejected \(s): \(m)"
            case .needsStaff(let m): return "#\(o.intent) needs a staff token: \(m)"
            case .ambiguous(let m): return "#\(o.intent) ambiguous: \(m)"
            }
        case .submissionConfirmed(let c):
            return "#\(c.intent) \(c.agreed ? "confirmed" : "DIVERGED") " + c.observed.map { "\($0.target)=\($0.amount?.description ?? "none")" }.joined(separator: " ")
        case .decreaseHeld(let h):
            return "\(h.target) held at \(h.confirmed) (desired \(h.desired))"
        }
    }
}
