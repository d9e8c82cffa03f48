import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine

/// `reckon audit`: the lineage of one resource-month, as text, JSON or a self-contained HTML page.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the lineage of one resource-month: job runs, submissions, and desired vs confirmed values.",
        discussion: """
        Reads the event log only (never Waldur): every job run that contributed to the SLURM \
        account in the month and how much (per user, with superseded versions), every submission \
        for the Waldur resource with its intent, outcome, read-back and the configuration it was \
        computed with, and the desired and confirmed totals now and for every month the log knows \
        of the resource. The resource is its SLURM account (backend_id, any case) or its Waldur \
        UUID. The JSON document is described in docs/audit.md.

        Examples:
          reckon audit -c config.yaml --resource hpc_alloc_b --month 2026-11
          reckon audit -c config.yaml --resource hpc_alloc_b --month 2026-11 --component cpu --json | jq .totals
          reckon audit -c config.yaml --resource hpc_alloc_b --month 2026-11 --html audit.html
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The SLURM account (Waldur backend_id, case-insensitive) or the Waldur resource UUID.")
    var resource: String

    @Option(name: .long, help: "The billing month, YYYY-MM, in the config's timezone.")
    var month: String

    @Option(name: .long, help: "Restrict to one component (e.g. cpu, mem, gres/gpu).")
    var component: String?

    @Flag(name: .long, help: "One JSON document on standard output.")
    var json = false

    @Option(name: .long, help: "Write a self-contained HTML page (chart and tables) to this file.")
    var html: String?

    func validate() throws {
        if json && html != nil { throw ValidationError("give --json or --html FILE, not both") }
        if resource.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--resource: give a SLURM account or a Waldur resource UUID") }
    }

    func run() throws {
        let cfg = try global.loadConfiguration()
        guard let bm = BillingMonth(parsing: month), cfg.calendar.window(of: bm) != nil else {
            throw CLIError("--month: expected YYYY-MM between 1970-01 and 2199-12, got \"\(month)\"")
        }
        let ledger = try global.openLedger(cfg, readOnly: true)
        let report: AuditReport
        do {
            report = try AuditQuery(ledger: ledger, offerings: cfg.offerings).audit(resource: resource, month: bm, component: component)
        } catch let e as AuditError {
            throw CLIError(e.description)
        } catch let e as EventStoreError {
            throw CLIError(e.description)
        }
        if json {
            print(AuditJSON.render(report))
        } else if let path = html {
            do {
                try Data(AuditHTML.render(report).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw CLIError("--html: cannot write \(path): \(error.localizedDescription)")
            }
            StandardError.write("wrote \(path): \(report.contributions.count) job run(s), \(report.submissions.count) submission(s), \(Set(report.series.map(\.month)).count) month(s) charted")
        } else {
            print(AuditText.render(report))
        }
    }
}
