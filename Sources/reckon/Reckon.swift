import ArgumentParser
import ReckonEngine

/// The `reckon` command: SLURM usage to Waldur, event-sourced and verifiable.
@main
struct Reckon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reckon",
        abstract: "Report SLURM usage to Waldur Mastermind, and prove that what was billed is what was used.",
        discussion: """
        reckon records every sacct record it observes in an append-only LMDB event log, projects the \
        desired usage per billing month, resource, user and component, and reports it to Waldur. \
        It reads the waldur-site-agent YAML configuration as is.

        Example:
          reckon ingest -c /etc/waldur/waldur-site-agent-config.yaml --start 2026-11-01 --end 2026-12-01
          reckon usage -c /etc/waldur/waldur-site-agent-config.yaml --month 2026-11 --by user
        """,
        version: ReckonVersion.string,
        subcommands: [IngestCommand.self, UsageCommand.self, PlanCommand.self, SyncCommand.self, DaemonCommand.self, BackfillCommand.self,
                      VerifyCommand.self, AuditCommand.self, DiagnosticsCommand.self, EventsCommand.self, ReplayCommand.self, WaldurSimCommand.self]
    )
}
