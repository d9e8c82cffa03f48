import ArgumentParser
import ReckonEngine

struct DiagnosticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnostics",
        abstract: "Check the Slurm tools, the cluster, every offering's Waldur connection, components and resources.",
        discussion: """
        A table of checks, each PASS, WARN or FAIL with advice. Exit status 1 when any check fails.

        Example:
          reckon diagnostics -c /etc/waldur/waldur-site-agent-config.yaml
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let cfg = try global.loadConfiguration()
        let logger = try global.logger()
        let checks = await Diagnostics(config: cfg, logger: logger).run()
        var t = PlainTable(headers: ["CHECK", "STATUS", "DETAIL", "ADVICE"])
        for c in checks { t.add([c.name, c.status.rawValue, c.detail, c.advice ?? ""]) }
        print(t.render())
        let failed = checks.filter { $0.status == .fail }.count
        print(failed == 0 ? "diagnostics: all \(checks.count) checks passed or warned" : "diagnostics: \(failed) of \(checks.count) checks failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
