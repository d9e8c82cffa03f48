import ArgumentParser
import Foundation
import ReckonCore
import ReckonEngine

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what the next tick would send to Waldur, without sending or recording anything.",
        discussion: """
        Reads Waldur (resources, offering users, stored usage of the open months) and compares it \
        with the desired usage in the event log. Every row is one key whose total would be written: \
        the value Waldur holds (confirmed), the desired value, and the difference. Run \
        `reckon ingest` (or `reckon sync`) first so the log holds the latest sacct records.

        Example:
          reckon plan -c /etc/waldur/waldur-site-agent-config.yaml
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "JSON Lines, one object per key to write.")
    var json = false

    func run() async throws {
        let result = try await ReconcileSetup.with(global: global, lock: false) { setup in await setup.tick.run(dryRun: true) }
        var table = PlainTable(headers: ["RESOURCE", "MONTH", "COMPONENT", "USER", "CONFIRMED", "DESIRED", "DELTA"], rightAligned: [4, 5, 6])
        for report in result.reports {
            for w in report.plan.totalWrites + report.plan.userWrites {
                for item in w.items {
                    let confirmed = item.basedOn ?? .zero
                    if json {
                        print(jsonLine(report.offering, item, deferred: false))
                    } else {
                        table.add([w.resource, w.month.description, item.target.component, item.target.user ?? "-",
                                   item.basedOn?.description ?? "none", item.amount.description, (item.amount - confirmed).description])
                    }
                }
            }
            // User values that follow their totals within the same tick (their ComponentUsage does not exist yet).
            if json { for item in report.plan.deferredUserItems { print(jsonLine(report.offering, item, deferred: true)) } }
            if !json {
                if !report.plan.deferredUsers.isEmpty { print("\(report.plan.deferredUsers.count) user value(s) follow once their totals exist in Waldur") }
                for h in report.plan.held { print("held decrease: \(h.target) \(h.confirmed) → \(h.desired)") }
                for rm in report.plan.waitingForStaff { print("needs a staff token (reckon backfill): \(rm)") }
                for s in report.plan.skipped { print("skipped: \(s)") }
                for n in report.notes { print("note: \(n)") }
                print("offering \(report.offering): \(report.plan.agreed) keys agree, \(report.plan.writeCount) write(s) planned")
            }
        }
        if !json && table.rows.count > 0 { print(table.render()) }
        for e in result.errors { StandardError.write("reckon: error: \(e)") }
        if !result.errors.isEmpty { throw ExitCode(1) }
    }

    /// One key to write, as a JSON object; `deferred` marks a user value that waits for its total.
    func jsonLine(_ offering: String, _ item: SubmissionIntent.Item, deferred: Bool) -> String {
        var pairs: [(String, String)] = [
            ("offering", JSONText.string(offering)), ("resource", JSONText.string(item.target.resource)),
            ("month", JSONText.string(item.target.month.description)), ("component", JSONText.string(item.target.component)),
            ("user", JSONText.optional(item.target.user)), ("confirmed", JSONText.optional(item.basedOn?.description)),
            ("desired", JSONText.string(item.amount.description)), ("delta", JSONText.string((item.amount - (item.basedOn ?? .zero)).description)),
        ]
        if deferred { pairs.append(("deferred", "true")) }
        return JSONText.object(pairs)
    }
}
