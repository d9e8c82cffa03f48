import ArgumentParser
import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .long], help: "The waldur-site-agent YAML configuration (with an optional reckon: section).")
    var config: String?

    @Option(name: .long, help: "State directory (overrides reckon.state_dir; default /var/lib/reckon as root, else $XDG_STATE_HOME/reckon).")
    var stateDir: String?

    /// Loads the configuration, or the defaults (UTC, no offerings) without `--config`.
    func loadConfiguration() throws -> ReckonConfiguration {
        guard let path = config else {
            guard let d = ReckonConfiguration.defaults() else { throw CLIError("cannot build the default configuration") }
            return d
        }
        do { return try ConfigLoader.load(path: path) } catch { throw CLIError("\(path): \(error.description)") }
    }

    func stateDirectory(_ cfg: ReckonConfiguration) -> String {
        StateDirectory.resolve(flag: stateDir, configured: cfg.reckon.stateDirectory)
    }

    /// Opens the ledger (creating the state directory when writing).
    func openLedger(_ cfg: ReckonConfiguration, readOnly: Bool) throws -> Ledger {
        let dir = stateDirectory(cfg)
        do {
            return try StateStore.openLedger(directory: dir, settings: cfg.projectionSettings,
                                             maxMapSizeMB: cfg.reckon.maxMapSizeMB, readOnly: readOnly)
        } catch let e as EventStoreError {
            throw CLIError(e.description)
        }
    }
}

/// An error message for the operator; printed as `reckon: error: …`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Standard error output.
enum StandardError {
    static func write(_ s: String) {
        FileHandle.standardError.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
    }
}
