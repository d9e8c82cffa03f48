import ArgumentParser
import Foundation
import ReckonCore
import ReckonEngine

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild every projection from sequence 0 and check it is bit-identical to the live one.",
        discussion: """
        Exit status 0 when the replayed and live projections are identical, 1 otherwise (the \
        differences are listed). With --until, shows instead the desired and confirmed values as \
        they were at that point of the log (a sequence number, or an instant: the log up to the \
        first sacct observation made after it).

        Examples:
          reckon replay -c config.yaml
          reckon replay -c config.yaml --until 2026-11-15T00:00:00Z
          reckon replay -c config.yaml --until 1200
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "A sequence number or an ISO 8601 instant: show the values as they were then.")
    var until: String?

    func run() throws {
        OneShotMemory.keepFreedMemory()
        let cfg = try global.loadConfiguration()
        _ = try global.logger()          // validates --log-level
        _ = try global.clock(cfg)        // validates --now
        let ledger = try global.openLedger(cfg, readOnly: true)
        if let until {
            let seq: Sequence64?
            if let n = UInt64(until) { seq = n } else {
                let t = try InstantParser.parse(until, zone: cfg.calendar.timeZone, option: "--until")
                seq = try ledger.store.read { try TimeTravel.sequence(atOrBefore: t, in: $0) }
            }
            guard let seq else { print("the log holds nothing before \(until)"); return }
            let snap = try TimeTravel.snapshot(ledger: ledger, until: seq, offering: cfg.offerings.first)
            print("as of event #\(seq):")
            var t = PlainTable(headers: ["ACCOUNT", "RESOURCE", "MONTH", "COMPONENT", "DESIRED", "CONFIRMED"], rightAligned: [4, 5])
            for r in snap.rows {
                t.add([r.account, r.resource ?? "-", r.month.description, r.component, r.desired.description, r.confirmed?.description ?? "none"])
            }
            print(snap.rows.isEmpty ? "no usage recorded yet" : t.render())
            return
        }
        let result = try ReplayCheck.run(ledger) { Date().timeIntervalSince1970 }
        let rate = result.eventsPerSecond
        print("replayed \(result.events) events in \(String(format: "%.3f", result.seconds)) s (\(Int(rate)) events/s)")
        if result.identical {
            print("projection: identical to the live one")
        } else {
            print("projection: DIFFERS from the live one")
            for d in result.differences { print("  \(d)") }
            throw ExitCode(1)
        }
    }
}
