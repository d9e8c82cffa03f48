import ArgumentParser
import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .long], help: "The waldur-site-agent YAML configuration (with an optional reckon: section).")
    var config: String?

    @Option(name: .long, help: "State directory (overrides reckon.state_dir; default /var/lib/reckon as root, else $XDG_STATE_HOME/reckon).")
    var stateDir: String?

    @Option(name: .long, help: "Log format on standard error: text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Pretend the current time is this instant (ISO 8601): for demos, tests and re-running history.")
    var now: String?

    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    /// The clock: the system's, or the fixed `--now`.
    func clock(_ cfg: ReckonConfiguration) throws -> any WallClock {
        guard let now else { return SystemClock() }
        return FixedClock(try InstantParser.parse(now, zone: cfg.calendar.timeZone, option: "--now"))
    }

    /// Sets up swift-log once for the process and returns reckon's logger.
    func logger() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level: expected one of trace, debug, info, notice, warning, error, critical; got \"\(logLevel)\"")
        }
        LoggingBootstrap.once(format: logFormat, level: level)
        var l = Logger(label: "reckon")
        l.logLevel = level
        return l
    }

    /// Loads the configuration, or the defaults (UTC, no offerings) without `--config`. Warns when
    /// a config holding a token is readable by group or others; refuses (throws) when the state
    /// directory exists and group or others may write it.
    func loadConfiguration() throws -> ReckonConfiguration {
        guard let path = config else {
            guard let d = ReckonConfiguration.defaults() else { throw CLIError("cannot build the default configuration") }
            return d
        }
        let cfg: ReckonConfiguration
        do { cfg = try ConfigLoader.load(path: path) } catch { throw CLIError("\(path): \(error.description)") }
        if cfg.offerings.contains(where: { !$0.token.isEmpty }), let warning = FilePermissions.tokenFileWarning(path: path) {
            try logger().warning("\(warning)")
        }
        // Refused before anything (the lock file included) is written into it.
        do { try FilePermissions.checkStateDirectory(stateDirectory(cfg)) } catch { throw CLIError(error.description) }
        return cfg
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
        } catch let e as StateDirectoryError {
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
        try? FileHandle.standardError.write(contentsOf: Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
    }
}

/// swift-log may be bootstrapped once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) static var done = false

    static func once(format: GlobalOptions.LogFormat, level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            switch format {
            case .json: return JSONLogHandler(label: label, level: level)
            case .text:
                return TextLogHandler(logLevel: level, label: label)
            }
        }
    }
}
