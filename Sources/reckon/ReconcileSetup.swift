import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonWaldur

/// What `plan`, `sync` and `daemon` share: the configuration, the ledger, one Waldur client per
/// offering, and the tick that uses them. Built and torn down by ``with(global:lock:_:)`` so the
/// HTTP clients are shut down on every path, errors included.
struct ReconcileSetup: Sendable {
    let config: ReckonConfiguration
    let ledger: Ledger
    let clients: [String: WaldurClient]
    let tick: ReconcileTick
    let logger: Logger
    let stateDirectory: String
    let clock: any WallClock

    /// The file written after every tick (`reckon.heartbeat_file`, else `<state_dir>/heartbeat`).
    var heartbeatPath: String { config.reckon.heartbeatFile ?? (stateDirectory + "/heartbeat") }

    /// Loads everything (taking the state directory's lock first when `lock`), runs `body`, and
    /// shuts the clients down whatever happens.
    static func with<T: Sendable>(global: GlobalOptions, lock: Bool, _ body: (ReconcileSetup) async throws -> T) async throws -> T {
        let logger = try global.logger()
        let cfg = try global.loadConfiguration()
        guard !cfg.offerings.isEmpty else { throw CLIError("the configuration has no offerings: give -c with a waldur-site-agent config") }
        for o in cfg.offerings {
            do { _ = try o.validatedUUID() } catch { throw CLIError(error.description) }
        }
        let directory = global.stateDirectory(cfg)
        var stateLock: StateLock?
        if lock {
            do { stateLock = try StateLock(directory: directory) } catch { throw CLIError("\(error)") }
        }
        let ledger = try global.openLedger(cfg, readOnly: false)
        let clock = try global.clock(cfg)
        var clients: [String: WaldurClient] = [:]
        func shutdown() async { for c in clients.values { try? await c.shutdown() } }
        do {
            for o in cfg.offerings { clients[o.offeringUUID] = try WaldurConnection.client(for: o, logger: logger) }
        } catch {
            await shutdown()
            if let e = error as? WaldurError { throw CLIError("offerings: \(e.description)") }
            throw CLIError("\(error)")
        }
        let setup = ReconcileSetup(config: cfg, ledger: ledger, clients: clients,
                                   tick: ReconcileTick(ledger: ledger, config: cfg, clock: clock, logger: logger, clients: clients),
                                   logger: logger, stateDirectory: directory, clock: clock)
        do {
            let result = try await body(setup)
            await shutdown()
            withExtendedLifetime(stateLock) {}
            return result
        } catch {
            await shutdown()
            withExtendedLifetime(stateLock) {}
            throw error
        }
    }
}
