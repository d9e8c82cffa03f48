import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonSacct

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Record sacct job runs in the event log: from a saved dump, or by running sacct.",
        discussion: """
        With --from, imports a saved `sacct -P` dump that has its header line (any field order; \
        extra fields are ignored). Times may be ISO local times (read in --time-zone, default the \
        config's timezone) or epoch seconds (SLURM_TIME_FORMAT=%s). With --start/--end, runs sacct \
        itself over that half-open window for all accounts at once.

        Malformed records never stop the import: they are recorded and counted, and the command \
        exits 1 with a summary naming their lines. Re-importing the same data appends no job event.

        Examples:
          reckon ingest --from sacct-november.psv --time-zone Europe/Tallinn
          reckon ingest -c config.yaml --start 2026-11-01 --end 2026-12-01
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "A saved sacct -P dump with its header line.")
    var from: String?

    @Option(name: .long, help: "Zone of ISO times in the dump (default: the config's timezone).")
    var timeZone: String?

    @Option(name: .long, help: "When the dump was taken (ISO 8601; default: now). Running jobs count up to it.")
    var observedAt: String?

    @Option(name: .long, help: "Cluster name for records without a Cluster column (default: backend_settings.cluster_name, else 'default').")
    var cluster: String?

    @Option(name: .long, help: "Start of the sacct window (ISO 8601 or YYYY-MM-DD, in the config's timezone unless an offset is given).")
    var start: String?

    @Option(name: .long, help: "End of the sacct window (exclusive).")
    var end: String?

    func validate() throws {
        if from == nil && (start == nil || end == nil) {
            throw ValidationError("give --from FILE, or both --start and --end")
        }
        if from != nil && (start != nil || end != nil) {
            throw ValidationError("--from and --start/--end are alternatives; give one")
        }
    }

    func run() throws {
        OneShotMemory.keepFreedMemory()
        let cfg = try global.loadConfiguration()
        let ledger = try global.openLedger(cfg, readOnly: false)
        let clock = try global.clock(cfg)
        let offering = cfg.offerings.first
        let defaultCluster = cluster ?? (offering?.clusterName.isEmpty == false ? offering!.clusterName : "default")
        let service = IngestService(ledger: ledger)
        let outcome: IngestService.Outcome
        if let path = from {
            let zoneName = timeZone ?? cfg.timeZoneIdentifier
            guard let zone = TimeZone(identifier: zoneName) else {
                throw CLIError("--time-zone: unknown time zone \"\(zoneName)\" (expected an IANA name such as UTC or Europe/Tallinn)")
            }
            let at = try observedAt.map { try InstantParser.parse($0, zone: zone, option: "--observed-at") } ?? clock.now()
            // Running jobs count up to the observation: one in the future would bill time not yet used.
            if at > clock.now() + 300 {
                throw CLIError("--observed-at \(observedAt ?? ""): is in the future; running jobs would be billed up to then")
            }
            do {
                outcome = try service.ingestFile(path: path, timeZone: zone, observedAt: at, defaultCluster: defaultCluster)
            } catch let e as SacctFormatError {
                throw CLIError("\(path): \(e.description)")
            }
        } else {
            let zone = cfg.calendar.timeZone
            let s = try InstantParser.parse(start ?? "", zone: zone, option: "--start")
            let e = try InstantParser.parse(end ?? "", zone: zone, option: "--end")
            guard let window = TimeWindow(start: s, end: e), !window.isEmpty else {
                throw CLIError("--end must be after --start")
            }
            let command = SacctCommand(binDirectory: offering?.slurmBinPath ?? "", window: window,
                                       cluster: offering?.clusterName.isEmpty == false ? offering?.clusterName : nil)
            do {
                outcome = try service.ingestSacct(command: command, window: window, runner: SacctRunner(timeoutSeconds: cfg.reckon.sacctTimeoutSeconds),
                                                  observedAt: clock.now(), defaultCluster: defaultCluster)
            } catch let e as SacctRunError {
                throw CLIError(e.description)
            } catch let e as SacctFormatError {
                throw CLIError("sacct output: \(e.description)")
            }
        }
        for w in outcome.warnings { StandardError.write("reckon: sacct said: \(w)") }
        for w in outcome.formatWarnings { StandardError.write("reckon: warning: \(w)") }
        print("ingested \(outcome.records) job records: \(outcome.newVersions) new versions, \(outcome.unchanged) unchanged, "
              + "\(outcome.observations.reduce(0) { $0 + $1.skippedSteps }) step rows skipped, \(outcome.malformedCount) malformed")
        if outcome.malformedCount > 0 {
            for m in outcome.malformed {
                // Control characters (a NUL in a damaged dump) are shown escaped, not sent to the terminal.
                let shown = String(m.text.prefix(160)).unicodeScalars.map { $0.value < 0x20 && $0 != "\t" ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
                StandardError.write("reckon: malformed record at \(m.description): \(shown)")
            }
            if outcome.malformedCount > UInt64(outcome.malformed.count) {
                StandardError.write("reckon: … and \(outcome.malformedCount - UInt64(outcome.malformed.count)) more malformed records")
            }
            StandardError.write("reckon: error: \(outcome.malformedCount) malformed record\(outcome.malformedCount == 1 ? "" : "s") (lines \(outcome.malformed.prefix(20).map { String($0.line) }.joined(separator: ", "))); every good record was kept")
            throw ExitCode(1)
        }
    }
}
