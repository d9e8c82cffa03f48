import ArgumentParser
import Foundation
import ReckonCore
import ReckonEngine
import ReckonSacct

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Run exactly one reconciliation tick (poll sacct, reconcile every offering), then exit.",
        discussion: """
        The same tick the daemon runs: one sacct poll for all accounts, a read-back of Waldur for \
        the open months, and only the writes whose totals differ, each recorded as intent, outcome \
        and confirmation. Then the heartbeat file is written, as after a daemon tick. Exit status 0 \
        when everything succeeded.

        Examples:
          reckon sync -c /etc/waldur/waldur-site-agent-config.yaml
          reckon sync -c config.yaml --release-held     # also send decreases held for review
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Send decreases that reckon.decreases: hold kept back.")
    var releaseHeld = false

    @Flag(name: .long, help: "Do not run sacct; reconcile what the log already holds.")
    var noPoll = false

    func run() async throws {
        let release = releaseHeld, poll = !noPoll
        let (result, logger) = try await ReconcileSetup.with(global: global, lock: true) { setup in
            let decision = ReconcileDecision.Options(holdDecreases: setup.config.reckon.holdDecreases, releaseHeld: release)
            let result = await setup.tick.run(decision: decision, pollSacct: poll)
            // As the daemon does after each tick, so a `reckon sync` from cron is watched the same way.
            Heartbeat.touch(setup.heartbeatPath, at: setup.clock.now())
            return (result, setup.logger)
        }
        TickSummary.print(result)
        // The whole process so far (start-up, the tick, shutting the HTTP clients down), sacct not included.
        ProcessResources.current().log(logger, "process resources")
        if !result.ok { throw ExitCode(1) }
    }
}

/// One-paragraph human summary of a tick.
enum TickSummary {
    static func print(_ r: ReconcileTick.Result) {
        if let i = r.ingest, let w = r.pollWindow {
            Swift.print("sacct \(r.rescan ? "re-scan" : "poll") [\(SacctTime.utc(w.start)), \(SacctTime.utc(w.end))): \(i.records) records, \(i.newVersions) new versions, \(i.malformedCount) malformed")
        }
        for rep in r.reports {
            Swift.print("offering \(rep.offering): \(rep.plan.agreed) keys agree; \(rep.writes) write(s): \(rep.accepted) accepted, \(rep.confirmed) confirmed, \(rep.diverged) diverged, \(rep.rejected) rejected, \(rep.needsStaff) need a staff token, \(rep.ambiguous) ambiguous; \(rep.decreases) decrease(s); \(rep.listCalls) list call(s)")
            for n in rep.notes { Swift.print("  note: \(n)") }
            for e in rep.errors { Swift.print("  error: \(e)") }
        }
        for e in r.errors { StandardError.write("reckon: error: \(e)") }
    }
}

enum SacctTime {
    static func utc(_ t: EpochSeconds) -> String { SacctCommand.utcString(t) + "Z" }
}
