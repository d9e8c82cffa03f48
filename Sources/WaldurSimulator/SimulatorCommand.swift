import Foundation
import Logging

/// The `reckon waldur-sim` entry point: loads the seed, starts the simulator on 127.0.0.1,
/// prints `listening on http://127.0.0.1:PORT` as the first line of stdout (flushed, so scripts
/// can read the port), then serves until the process is interrupted or the task is cancelled.
///
/// - Parameters:
///   - seedPath: the YAML seed file.
///   - port: 0 picks a free port.
///   - timeZone: the server's time zone (IANA), overriding the seed's.
///   - statePath: JSON file where usages persist across restarts.
///   - faultsJSON: the initial fault mix as JSON (see `SimulatorFaults`), or nil for none.
///   - logger: must not write to standard output; the default writes to standard error.
///   - announce: receives the `listening on …` line; the default writes it to standard output.
public func runWaldurSimulatorCommand(
    seedPath: String, port: Int = 0, timeZone: String? = nil, statePath: String? = nil,
    faultsJSON: String? = nil, logger: Logger = WaldurSimulator.defaultLogger,
    announce: @Sendable (String) -> Void = writeLineToStandardOutput
) async throws {
    let seed = try SimulatorSeed(contentsOf: seedPath)
    let faults = try faultsJSON.map { try SimulatorFaults(json: Array($0.utf8)) } ?? .none
    let simulator = try await WaldurSimulator.start(
        seed: seed, port: port, timeZone: timeZone, statePath: statePath, faults: faults, logger: logger)
    announce("listening on \(simulator.baseURL)")
    try await simulator.waitUntilStopped()
}

/// Writes a line to standard output through file descriptor 1 directly: nothing is buffered,
/// so a script reading the simulator's output sees the line at once.
public func writeLineToStandardOutput(_ line: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}
