import Foundation

/// Where reckon keeps its LMDB state: `--state-dir`, else the config's `reckon.state_dir`, else
/// `/var/lib/reckon` for root and `$XDG_STATE_HOME/reckon` (or `~/.local/state/reckon`) otherwise.
public enum StateDirectory {
    public static func resolve(flag: String?, configured: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               isRoot: Bool = geteuid() == 0) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let configured, !configured.isEmpty { return configured }
        if isRoot { return "/var/lib/reckon" }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/reckon" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/reckon"
    }
}
