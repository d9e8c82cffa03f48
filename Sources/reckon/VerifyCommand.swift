import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonSacct

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the log against a fresh sacct --truncate and Waldur's stored values against the desired ones.",
        discussion: """
        Against sacct: runs `sacct --truncate --duplicates --allocations` over the same half-open \
        window and sums TRES × truncated ElapsedRaw per (account, user, TRES), independently of \
        reckon's projection. Against Waldur: reads the offering's stored totals and user values \
        (recording nothing). Lists every disagreement with both values and the difference, to the \
        cent in Waldur units. Exit status 0 only when everything agrees.

        Examples:
          reckon verify -c config.yaml --month 2026-11
          reckon verify -c config.yaml --month 2026-10 --against waldur --json
          reckon verify -c config.yaml --from 2026-11-03T00:00 --to 2026-11-04 --against sacct
        """
    )

    enum Against: String, ExpressibleByArgument, CaseIterable { case sacct, waldur, all }

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Billing month YYYY-MM.")
    var month: String?

    @Option(name: .long, help: "Window start (sacct only).")
    var from: String?

    @Option(name: .long, help: "Window end, exclusive (sacct only).")
    var to: String?

    @Option(name: .long, help: "sacct, waldur or all.")
    var against: Against = .all

    @Option(name: .long, help: "Offering (UUID or name) whose components apply (default: the first; Waldur checks: every offering).")
    var offering: String?

    @Flag(name: .long, help: "JSON Lines: one object per disagreement, then a summary object.")
    var json = false

    func validate() throws {
        if (month == nil) == (from == nil && to == nil) { throw ValidationError("give --month YYYY-MM, or --from and --to") }
        if month == nil && (from == nil || to == nil) { throw ValidationError("--from and --to go together") }
        if month == nil && against != .sacct { throw ValidationError("--from/--to windows are checked against sacct only: add --against sacct") }
    }

    func run() async throws {
        OneShotMemory.keepFreedMemory()
        let cfg = try global.loadConfiguration()
        _ = try global.logger()
        let zone = cfg.calendar.timeZone
        let window: TimeWindow, period: String
        var billingMonth: BillingMonth?
        if let m = month {
            guard let bm = BillingMonth(parsing: m), let w = cfg.calendar.window(of: bm) else {
                throw CLIError("--month: expected YYYY-MM between 1970-01 and 2199-12, got \"\(m)\"")
            }
            billingMonth = bm; window = w; period = bm.description
        } else {
            let s = try InstantParser.parse(from ?? "", zone: zone, option: "--from"), e = try InstantParser.parse(to ?? "", zone: zone, option: "--to")
            guard let w = TimeWindow(start: s, end: e), !w.isEmpty else { throw CLIError("--to must be after --from") }
            window = w; period = "\(from ?? "")/\(to ?? "")"
        }
        let chosen = cfg.offering(offering)
        if offering != nil && chosen == nil { throw CLIError("--offering: no offering \"\(offering ?? "")\" in the config") }
        let ledger = try global.openLedger(cfg, readOnly: true)
        var report = Verifier.Report()
        if against != .waldur {
            let o = chosen
            do {
                try Verifier.againstSacct(ledger: ledger, window: window, period: period,
                                          components: (o?.components.isEmpty ?? true) ? nil : o?.components,
                                          command: { w in
                                              SacctCommand(binDirectory: o?.slurmBinPath ?? "", window: w,
                                                           cluster: (o?.clusterName.isEmpty ?? true) ? nil : o?.clusterName,
                                                           truncate: true, fields: TruncatedUsage.fields)
                                          },
                                          runner: SacctRunner(timeoutSeconds: cfg.reckon.sacctTimeoutSeconds), report: &report)
            } catch let e as SacctRunError {
                report.errors.append("sacct: \(e.description)")
            }
        }
        if against != .sacct, let bm = billingMonth {
            guard !cfg.offerings.isEmpty else { throw CLIError("--against waldur needs a config with offerings (-c)") }
            let offerings = offering == nil ? cfg.offerings : [chosen].compactMap { $0 }
            let logger = try global.logger()
            let clock = try global.clock(cfg)
            for o in offerings {
                do {
                    let client = try WaldurConnection.client(for: o, logger: logger)
                    do {
                        let r = try OfferingReconciler(ledger: ledger, offering: o, client: client, clock: clock, logger: logger)
                        try await Verifier.againstWaldur(reconciler: r, month: bm, report: &report)
                    } catch { report.errors.append("offering \(o.name): \(error)") }
                    try? await client.shutdown()
                } catch { report.errors.append("offering \(o.name): \(error)") }
            }
        }
        print(render(report))
        if !report.ok { throw ExitCode(1) }
    }

    func render(_ r: Verifier.Report) -> String {
        if json {
            var lines = r.disagreements.map { d in
                JSONText.object([("against", JSONText.string(d.against)), ("resource", JSONText.string(d.resource)), ("user", JSONText.optional(d.user)),
                                 ("component", JSONText.string(d.component)), ("period", JSONText.string(d.period)),
                                 ("reckon", JSONText.string(d.ours.description)), ("other", JSONText.string(d.theirs.description)),
                                 ("difference", JSONText.string(d.difference.description))])
            }
            lines.append(JSONText.object([("summary", JSONText.object([("compared", String(r.compared)), ("disagreements", String(r.disagreements.count)),
                                                                       ("errors", "[" + r.errors.map(JSONText.string).joined(separator: ",") + "]"),
                                                                       ("agree", r.ok ? "true" : "false")]))]))
            return lines.joined(separator: "\n")
        }
        var out: [String] = []
        if !r.disagreements.isEmpty {
            var t = PlainTable(headers: ["AGAINST", "RESOURCE", "USER", "COMPONENT", "PERIOD", "RECKON", "OTHER", "DIFFERENCE"], rightAligned: [5, 6, 7])
            for d in r.disagreements {
                t.add([d.against, d.resource, d.user ?? "-", d.component, d.period, d.ours.description, d.theirs.description, d.difference.description])
            }
            out.append(t.render())
        }
        out += r.notes.map { "note: \($0)" }
        out += r.errors.map { "error: \($0)" }
        out.append(r.ok ? "verify: \(r.compared) keys compared, all agree" : "verify: \(r.compared) keys compared, \(r.disagreements.count) disagree\(r.errors.isEmpty ? "" : ", \(r.errors.count) error(s)")")
        return out.joined(separator: "\n")
    }
}
