import Foundation

/// Is a live Slurm cluster (tools/slurm-sandbox) here, and where are the things the suite runs?
enum SlurmCluster {
    static let environment = ProcessInfo.processInfo.environment

    /// `RECKON_REQUIRE_SLURM=1` (set by .ci/run): a missing cluster is a failure, not a skip.
    static let required: Bool = ["1", "true", "yes"].contains(environment["RECKON_REQUIRE_SLURM"]?.lowercased() ?? "")

    /// The repository root (this file is Tests/SlurmIntegrationTests/Cluster.swift).
    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let sandboxScripts = repositoryRoot + "/tools/slurm-sandbox"
    static let sandboxDirectory = environment["RECKON_SLURM_DIR"] ?? "/var/tmp/reckon-slurm"
    static let clusterName = environment["RECKON_SLURM_CLUSTER"] ?? "reckon"

    /// nil when the cluster is usable; otherwise why not (printed once, on standard error).
    static let unavailableReason: String? = {
        let reason = probe()
        if let reason {
            let verdict = required ? "FAILS (RECKON_REQUIRE_SLURM=1)" : "skipped"
            FileHandle.standardError.write(Data("SlurmIntegrationTests \(verdict): \(reason)\n".utf8))
        }
        return reason
    }()

    /// The end-to-end test runs when the cluster is up, and also when it is required but missing
    /// (so that it fails loudly instead of being skipped).
    static var shouldRun: Bool { unavailableReason == nil || required }

    private static func probe() -> String? {
        if environment["RECKON_SKIP_SLURM"] == "1" { return "RECKON_SKIP_SLURM=1" }
        for tool in ["sinfo", "sacct", "sbatch", "scontrol"] where Shell.which(tool) == nil {
            return "\(tool) not found on PATH: no Slurm client tools (tools/slurm-sandbox/up.sh installs and starts a cluster)"
        }
        guard geteuid() == 0 else {
            return "not running as root: the job mix (tools/slurm-sandbox/jobs.sh) submits as alice/bob/carol with runuser and suspends/requeues with scontrol"
        }
        guard let status = try? Shell.run(sandboxScripts + "/status.sh", [], timeout: 30) else {
            return "cannot run \(sandboxScripts)/status.sh"
        }
        guard status.ok else {
            let up = status.stdout.split(separator: "\n").first { $0.hasPrefix("daemons up:") } ?? "daemons down"
            return "the sandbox cluster in \(sandboxDirectory) is not up (\(up)); start it with tools/slurm-sandbox/up.sh"
        }
        guard let sinfo = try? Shell.run("sinfo", ["-h", "-o", "%T"], timeout: 20), sinfo.ok,
              sinfo.stdout.split(separator: "\n").contains(where: { ["idle", "mixed", "allocated"].contains($0) }) else {
            return "sinfo shows no usable node (idle/mixed/allocated)"
        }
        if reckonBinary == nil {
            return "no reckon binary: set RECKON_BIN, or build it (swift build --build-tests builds it next to the test bundle)"
        }
        return nil
    }

    /// The reckon executable under test: $RECKON_BIN, else the one built next to this test bundle.
    static let reckonBinary: String? = {
        if let b = environment["RECKON_BIN"], !b.isEmpty { return FileManager.default.isExecutableFile(atPath: b) ? b : nil }
        let candidates = [Bundle.main.executablePath, CommandLine.arguments.first].compactMap { $0 }
        for c in candidates {
            var dir = URL(fileURLWithPath: c).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {   // the test executable may sit inside a bundle directory
                let r = dir.appendingPathComponent("reckon").path
                if FileManager.default.isExecutableFile(atPath: r) { return r }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }()
}
