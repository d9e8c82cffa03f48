import ArgumentParser
import WaldurSimulator

struct WaldurSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waldur-sim",
        abstract: "Run a faithful Waldur Mastermind simulator on 127.0.0.1 (for tests and the demo).",
        discussion: """
        Prints `listening on http://127.0.0.1:PORT` as its first line of standard output, then \
        serves until stopped (Ctrl-C or SIGTERM). The seed format, the admin endpoints \
        (/_sim/usages, /_sim/requests, /_sim/faults, /_sim/clock) and the fault JSON are \
        described in docs/waldur-simulator.md.

        Example:
          reckon waldur-sim --seed fixtures/demo/waldur-seed.yaml --port 0 --state /tmp/sim.json
        """
    )

    @Option(name: .long, help: "YAML seed: users, offerings, resources, offering users, stored usages.")
    var seed: String

    @Option(name: .long, help: "Port on 127.0.0.1 (0 picks a free one).")
    var port: Int = 0

    @Option(name: .long, help: "The server's TIME_ZONE: billing months are computed in it (default UTC).")
    var timeZone: String?

    @Option(name: .long, help: "Persist the simulator's data in this JSON file across restarts.")
    var state: String?

    @Option(name: .long, help: "Initial fault mix as JSON (see docs/waldur-simulator.md).")
    var faults: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
    }

    func run() async throws {
        try await runWaldurSimulatorCommand(seedPath: seed, port: port, timeZone: timeZone, statePath: state, faultsJSON: faults)
    }
}
