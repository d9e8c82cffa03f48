import ArgumentParser
import ReckonCore
import ReckonEngine

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the event log, readable or as JSON Lines.",
        discussion: """
        Examples:
          reckon events --limit 20
          reckon events --since 1000 --json | jq .kind
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "First sequence number to show.")
    var since: UInt64 = 0

    @Option(name: .long, help: "At most this many events.")
    var limit: Int = 1000

    @Flag(name: .long, help: "JSON Lines: one {seq, kind, payload} object per event.")
    var json = false

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must not be negative, got \(limit)") }
    }

    func run() throws {
        let cfg = try global.loadConfiguration()
        _ = try global.logger()          // validates --log-level
        _ = try global.clock(cfg)        // validates --now
        let ledger = try global.openLedger(cfg, readOnly: true)
        let events = try ledger.store.read { r in try r.events(from: since, limit: limit) }
        for e in events { print(json ? EventRendering.json(e) : EventRendering.text(e)) }
    }
}
