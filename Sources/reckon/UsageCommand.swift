import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine

struct UsageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show desired usage in Waldur units for a billing month or any half-open window.",
        discussion: """
        Amounts are (TRES count × minutes, memory in MiB) ÷ unit_factor of the chosen offering's \
        components, exact, rounded half-to-even to 2 decimals once per row. Without a config, \
        every TRES is shown in TRES-minutes (unit factor 1). Running jobs count up to the last \
        sacct observation.

        Examples:
          reckon usage -c config.yaml --month 2026-11
          reckon usage -c config.yaml --month 2026-10 --month 2026-11 --month 2026-12 --by user
          reckon usage -c config.yaml --from 2026-11-03T12:00:00 --to 2026-11-04 --by user --json
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "A billing month, YYYY-MM, in the config's timezone; repeat it for several months in one table.")
    var month: [String] = []

    @Option(name: .long, help: "Window start (ISO 8601 or YYYY-MM-DD).")
    var from: String?

    @Option(name: .long, help: "Window end (exclusive).")
    var to: String?

    @Option(name: .long, help: "One row per (resource, component) or per (resource, user, component).")
    var by: UsageReport.Grouping = .resource

    @Option(name: .long, help: "Offering (UUID or name) whose components and unit factors apply (default: the first).")
    var offering: String?

    @Flag(name: .long, help: "JSON Lines, one object per key.")
    var json = false

    func validate() throws {
        if month.isEmpty == (from == nil && to == nil) { throw ValidationError("give --month YYYY-MM, or --from and --to") }
        if month.isEmpty && (from == nil || to == nil) { throw ValidationError("--from and --to go together") }
    }

    func run() throws {
        OneShotMemory.keepFreedMemory()
        let cfg = try global.loadConfiguration()
        _ = try global.logger()          // validates --log-level
        _ = try global.clock(cfg)        // validates --now
        var components: [Component]?
        if !cfg.offerings.isEmpty {
            guard let o = cfg.offering(offering) else { throw CLIError("--offering: no offering \"\(offering ?? "")\" in the config") }
            components = o.components.isEmpty ? nil : o.components
        } else if offering != nil {
            throw CLIError("--offering needs a config with offerings (-c)")
        }
        let ledger = try global.openLedger(cfg, readOnly: true)
        let query = UsageQuery(ledger: ledger)
        var reports: [UsageReport] = []
        if !month.isEmpty {
            var months: [BillingMonth] = []
            for m in month {
                guard let bm = BillingMonth(parsing: m), cfg.calendar.window(of: bm) != nil else {
                    throw CLIError("--month: expected YYYY-MM between 1970-01 and 2199-12, got \"\(m)\"")
                }
                months.append(bm)
            }
            reports = try query.monthReports(months, grouping: by, components: components)
        } else {
            let zone = cfg.calendar.timeZone
            let s = try InstantParser.parse(from ?? "", zone: zone, option: "--from")
            let e = try InstantParser.parse(to ?? "", zone: zone, option: "--to")
            guard let w = TimeWindow(start: s, end: e), !w.isEmpty else { throw CLIError("--to must be after --from") }
            let (native, marks) = try query.nativeUsage(window: w)
            reports.append(UsageQuery.report(native, period: "\(from ?? "")/\(to ?? "")", grouping: by, components: components, observedUntil: marks))
        }
        if json {
            for r in reports.lazy.flatMap(\.rows) {
                print(JSONText.object([("resource", JSONText.string(r.resource)), ("user", JSONText.optional(r.user)),
                                       ("component", JSONText.string(r.component)), ("period", JSONText.string(r.period)),
                                       ("amount", JSONText.string(r.amount.description))]))
            }
            return
        }
        if reports.allSatisfy({ $0.rows.isEmpty }) {
            print("no usage recorded for \(reports.map(\.period).joined(separator: ", "))")
        } else {
            fflush(nil)   // anything print buffered goes first
            do {
                try UsageReportText.write(reports, grouping: by) { try FileHandle.standardOutput.write(contentsOf: $0) }
                try FileHandle.standardOutput.write(contentsOf: [UInt8(10)])
            } catch {
                throw CLIError("cannot write the usage table to standard output: \(error.localizedDescription)")
            }
        }
    }
}

extension UsageReport.Grouping: ExpressibleByArgument {}
