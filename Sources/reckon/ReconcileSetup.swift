import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonWaldur

/// What `plan`, `sync` and `daemon` share: the configuration, the ledger, one Waldur client per
/// offering, and the tick that uses them.
struct ReconcileSetup: Sendable {
    let config: ReckonConfiguration
    let ledger: Ledger
    let clients: [String: WaldurClient]
    let tick: ReconcileTick
    let logger: Logger
    let stateDirectory: String
    let clock: any WallClock

    init(global: GlobalOptions, readOnly: Bool = false) throws {
        let logger = try global.logger()
        let cfg = try global.loadConfiguration()
        guard !cfg.offerings.isEmpty else { throw CLIError("the configuration has no offerings: give -c with a waldur-site-agent config") }
        var clients: [String: WaldurClient] = [:]
        for o in cfg.offerings {
            do {
                _ = try o.validatedUUID()
                clients[o.offeringUUID] = try WaldurConnection.client(for: o, logger: logger)
            } catch let e as ConfigError {
                throw CLIError(e.description)
            } catch let e as WaldurError {
                throw CLIError("offerings[\(o.index)]: \(e.description)")
            }
        }
        self.config = cfg
        self.stateDirectory = global.stateDirectory(cfg)
        self.ledger = try global.openLedger(cfg, readOnly: readOnly)
        self.clients = clients
        self.logger = logger
        self.clock = try global.clock(cfg)
        self.tick = ReconcileTick(ledger: ledger, config: cfg, clock: clock, logger: logger, clients: clients)
    }

    func shutdown() async {
        for c in clients.values { try? await c.shutdown() }
    }
}
