import ArgumentParser
import Foundation
import ReckonEngine

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild every projection from sequence 0 and check it is bit-identical to the live one.",
        discussion: """
        Exit status 0 when the replayed and live projections are identical, 1 otherwise (the \
        differences are listed).

        Example:
          reckon replay -c config.yaml
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let cfg = try global.loadConfiguration()
        let ledger = try global.openLedger(cfg, readOnly: true)
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
