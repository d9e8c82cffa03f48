import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonWaldur

struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Historical catch-up: make Waldur agree with sacct for whole past months, sending only the differences.",
        discussion: """
        Month by month from the start month to the end month: one sacct call for all accounts, one \
        batched read-back of the offering, then only the writes that differ, each recorded as \
        intent, outcome and confirmation (so an interrupted run resumes and a second run sends \
        nothing). Waldur accepts past-month usage only from staff: give a staff token with \
        --user-token-file or --user-token-env (the offering's own token is used otherwise).

        Examples:
          reckon backfill -c config.yaml --start-date 2026-01-01 --end-date 2026-10-31 --user-token-file /root/staff.token
          reckon backfill -c config.yaml --start-date 2026-06-01 --end-date 2026-06-30 --resource hpc_alloc_a --dry-run
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: [.customShort("s"), .long], help: "First day (YYYY-MM-DD); its whole month is covered.")
    var startDate: String

    @Option(name: [.customShort("e"), .long], help: "Last day (YYYY-MM-DD); its whole month is covered.")
    var endDate: String

    @Option(name: [.customShort("o"), .long], help: "Only this offering (UUID); default every offering in the config.")
    var offeringUuid: String?

    @Option(name: .long, help: "Read the staff token from this file.")
    var userTokenFile: String?

    @Option(name: .long, help: "Read the staff token from this environment variable.")
    var userTokenEnv: String?

    @Option(name: [.customShort("t"), .long], help: "The staff token itself (visible in `ps`: prefer --user-token-file).")
    var userToken: String?

    @Option(name: [.long, .customLong("resource-backend-id")], help: "Only this resource's backend_id (repeatable).")
    var resource: [String] = []

    @Flag(name: .long, help: "Plan and print; send nothing to Waldur (sacct records are still recorded).")
    var dryRun = false

    @Flag(name: .long, help: "Totals only; leave per-user values alone.")
    var skipUserUsage = false

    @Flag(name: .long, help: "Do not refuse a token that is not staff.")
    var noStaffCheck = false

    func token() throws -> String? {
        let given = [userTokenFile != nil, userTokenEnv != nil, userToken != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give at most one of --user-token-file, --user-token-env, --user-token") }
        if let f = userTokenFile {
            guard let t = try? String(contentsOfFile: f, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else {
                throw CLIError("--user-token-file: cannot read a token from \(f)")
            }
            return t
        }
        if let v = userTokenEnv {
            guard let t = ProcessInfo.processInfo.environment[v]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else {
                throw CLIError("--user-token-env: the environment variable \(v) is not set or empty")
            }
            return t
        }
        if let t = userToken {
            StandardError.write("reckon: warning: --user-token puts the token on the command line, where `ps` shows it; prefer --user-token-file")
            return t
        }
        return nil
    }

    func run() async throws {
        OneShotMemory.keepFreedMemory()
        let cfg = try global.loadConfiguration()
        let logger = try global.logger()
        let clock = try global.clock(cfg)
        let range: Backfill.Range
        do { range = try Backfill.range(start: startDate, end: endDate, calendar: cfg.calendar, now: clock.now()) } catch {
            throw CLIError(error.description)
        }
        var offerings = cfg.offerings
        if let o = offeringUuid {
            guard let found = cfg.offering(o) else { throw CLIError("--offering-uuid: no offering \(o) in the config") }
            offerings = [found]
        }
        guard !offerings.isEmpty else { throw CLIError("the configuration has no offerings: give -c with a waldur-site-agent config") }
        let staffToken = try token()
        let directory = global.stateDirectory(cfg)
        let lock: StateLock
        do { lock = try StateLock(directory: directory) } catch { throw CLIError("\(error)") }
        let ledger = try global.openLedger(cfg, readOnly: false)
        var allOK = true
        var table = PlainTable(headers: ["OFFERING", "MONTH", "RESOURCES", "AGREE", "WRITES", "CONFIRMED", "DECREASES", "ERRORS"],
                               rightAligned: [2, 3, 4, 5, 6, 7])
        for o in offerings {
            let client: WaldurClient
            do {
                _ = try o.validatedUUID()
                client = try WaldurConnection.client(for: o, token: staffToken, logger: logger)
            } catch { throw CLIError("\(error)") }
            do {
                let backfill = Backfill(ledger: ledger, config: cfg, offering: o, client: client, clock: clock, logger: logger)
                if !noStaffCheck { try await backfill.checkStaff() }
                let results = try await backfill.run(range, resources: resource, dryRun: dryRun, skipUserUsage: skipUserUsage) { i, n, r in
                    let text = "\(TerminalProgress.bar(done: i, total: n)) month \(i)/\(n) \(r.month)  resources \(r.resources)  writes \(r.writes)"
                    if TerminalProgress.shared.isTerminal { TerminalProgress.shared.update(text) } else {
                        logger.info("backfill month \(i)/\(n) \(r.month)", metadata: ["resources": "\(r.resources)", "writes": "\(r.writes)", "agree": "\(r.agreed)", "errors": "\(r.errors.count)"])
                    }
                }
                TerminalProgress.shared.finish()
                for r in results {
                    allOK = allOK && r.ok
                    table.add([o.name.isEmpty ? o.offeringUUID : o.name, r.month.description, "\(r.resources)", "\(r.agreed)", "\(r.writes)", "\(r.confirmed)",
                               "\(r.decreases)", r.errors.isEmpty ? "0" : "\(r.errors.count): \(r.errors.joined(separator: "; "))"])
                }
            } catch {
                TerminalProgress.shared.finish()
                try? await client.shutdown()
                throw CLIError(error is BackfillError ? "\(error)" : "offering \(o.name): \(error)")
            }
            try? await client.shutdown()
        }
        print(table.render())
        if dryRun { print("dry run: nothing was sent") }
        withExtendedLifetime(lock) {}
        if !allOK { throw ExitCode(1) }
    }
}
