import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonWaldur

/// `reckon diagnostics`: the checks an operator runs before trusting reckon with billing — the
/// Slurm tools answer, the cluster name matches, every offering is reachable with a valid token,
/// the configured components exist in Waldur, every resource's backend_id is a Slurm account.
/// Each check passes, warns or fails with advice.
public struct Diagnostics {
    public enum Status: String, Sendable { case pass = "PASS", warn = "WARN", fail = "FAIL" }

    public struct Check: Sendable {
        public var name: String
        public var status: Status
        public var detail: String
        public var advice: String?
    }

    let config: ReckonConfiguration
    let logger: Logger
    let runTool: @Sendable (String, [String]) -> (status: Int32, output: String)

    public init(config: ReckonConfiguration, logger: Logger,
                runTool: @escaping @Sendable (String, [String]) -> (status: Int32, output: String) = Diagnostics.run) {
        self.config = config
        self.logger = logger
        self.runTool = runTool
    }

    public func run() async -> [Check] {
        var checks: [Check] = []
        let first = config.offerings.first
        let bin = first?.slurmBinPath ?? "/usr/bin"
        func tool(_ name: String) -> String { bin.isEmpty ? name : (bin.hasSuffix("/") ? bin + name : bin + "/" + name) }

        let sacct = runTool(tool("sacct"), ["--version"])
        checks.append(sacct.status == 0
            ? Check(name: "sacct", status: .pass, detail: sacct.output.trimmingCharacters(in: .whitespacesAndNewlines))
            : Check(name: "sacct", status: .fail, detail: "\(tool("sacct")) --version failed: \(sacct.output.prefix(200))",
                    advice: "install slurm-client or set backend_settings.slurm_bin_path"))
        let mgr = runTool(tool("sacctmgr"), ["--version"])
        checks.append(mgr.status == 0
            ? Check(name: "sacctmgr", status: .pass, detail: mgr.output.trimmingCharacters(in: .whitespacesAndNewlines))
            : Check(name: "sacctmgr", status: .fail, detail: "\(tool("sacctmgr")) --version failed: \(mgr.output.prefix(200))",
                    advice: "install slurm-client; reckon reads accounts with sacctmgr for these checks only"))
        var accounts: Set<String>?
        if mgr.status == 0 {
            let clusters = runTool(tool("sacctmgr"), ["--parsable2", "--noheader", "show", "cluster", "format=cluster"])
            if clusters.status != 0 || clusters.output.contains("error:") {
                checks.append(Check(name: "slurmdbd", status: .fail,
                                    detail: "sacctmgr cannot reach slurmdbd: \(clusters.output.split(separator: "\n").first.map(String.init) ?? "exit \(clusters.status)")",
                                    advice: "start slurmdbd (sacct reads accounting from it) and check AccountingStorageHost"))
                for o in config.offerings { checks += await offeringChecks(o, accounts: nil) }
                return checks
            }
            let names = clusters.output.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let want = first?.clusterName, !want.isEmpty {
                checks.append(names.contains(want.lowercased())
                    ? Check(name: "cluster", status: .pass, detail: "cluster_name \(want) is known to slurmdbd")
                    : Check(name: "cluster", status: .fail, detail: "cluster_name \(want) is not among slurmdbd's clusters (\(names.joined(separator: ", ")))",
                            advice: "set backend_settings.cluster_name to one of them"))
            } else {
                checks.append(Check(name: "cluster", status: names.count > 1 ? .warn : .pass,
                                    detail: "no cluster_name configured; slurmdbd knows \(names.joined(separator: ", "))",
                                    advice: names.count > 1 ? "set backend_settings.cluster_name: sacct then asks only that cluster" : nil))
            }
            let acc = runTool(tool("sacctmgr"), ["--parsable2", "--noheader", "show", "account", "format=account"])
            if acc.status == 0 {
                accounts = Set(acc.output.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces).lowercased() })
            }
        }
        for o in config.offerings {
            checks += await offeringChecks(o, accounts: accounts)
        }
        return checks
    }

    func offeringChecks(_ o: OfferingConfiguration, accounts: Set<String>?) async -> [Check] {
        let label = "offering \(o.name.isEmpty ? o.offeringUUID : o.name)"
        var out: [Check] = []
        let uuid: WaldurUUID
        do { uuid = try WaldurUUID(parsing: try o.validatedUUID(), field: "waldur_offering_uuid") } catch {
            return [Check(name: label, status: .fail, detail: "\(error)", advice: "set waldur_offering_uuid to the offering's UUID")]
        }
        let client: WaldurClient
        do { client = try WaldurConnection.client(for: o, logger: logger, retry: WaldurRetryPolicy(maxAttempts: 2, totalBudget: .seconds(20)), requestTimeoutSeconds: 20) } catch {
            return [Check(name: label, status: .fail, detail: "\(error)", advice: "check waldur_api_url and waldur_api_token")]
        }
        defer { Task { try? await client.shutdown() } }
        do {
            let me = try await client.me()
            out.append(Check(name: "\(label): token", status: .pass,
                             detail: "authenticated as \(me.username)\(me.isStaff ? " (staff: may backfill past months)" : " (not staff: past months need reckon backfill with a staff token)")"))
        } catch {
            out.append(Check(name: "\(label): token", status: .fail, detail: "\(error)", advice: "check waldur_api_url, waldur_api_token and the network"))
            try? await client.shutdown()
            return out
        }
        do {
            let offering = try await client.offering(uuid)
            let types = Set(offering.components.map(\.type))
            let configured = o.components.map(\.name)
            let missing = configured.filter { !types.contains($0) }
            let unreported = offering.components.filter { $0.billingType == "usage" && !configured.contains($0.type) }.map(\.type)
            out.append(Check(name: "\(label): components", status: missing.isEmpty ? (unreported.isEmpty ? .pass : .warn) : .fail,
                             detail: "configured \(configured.joined(separator: ", ")); Waldur offers \(types.sorted().joined(separator: ", "))"
                                + (missing.isEmpty ? "" : "; missing in Waldur: \(missing.joined(separator: ", "))")
                                + (unreported.isEmpty ? "" : "; usage components not configured: \(unreported.joined(separator: ", "))"),
                             advice: missing.isEmpty ? (unreported.isEmpty ? nil : "add them to backend_components if Slurm tracks them") : "remove them from backend_components or add them to the offering"))
            let resources = try await client.providerResources(offeringUUID: uuid)
            let withIDs = resources.filter { !$0.backendID.isEmpty }
            if let accounts {
                let absent = withIDs.filter { !accounts.contains($0.backendID.lowercased()) }.map(\.backendID)
                out.append(Check(name: "\(label): resources", status: absent.isEmpty ? .pass : .warn,
                                 detail: "\(withIDs.count) of \(resources.count) resources have a backend_id" + (absent.isEmpty ? "; all are Slurm accounts" : "; not Slurm accounts: \(absent.prefix(10).joined(separator: ", "))\(absent.count > 10 ? " …" : "")"),
                                 advice: absent.isEmpty ? nil : "their usage will be zero until the account exists in Slurm"))
            } else {
                out.append(Check(name: "\(label): resources", status: .warn, detail: "\(resources.count) resources; Slurm accounts could not be listed", advice: "fix sacctmgr first"))
            }
        } catch {
            out.append(Check(name: "\(label): offering", status: .fail, detail: "\(error)", advice: "check waldur_offering_uuid and the token's permissions"))
        }
        try? await client.shutdown()
        return out
    }

    /// Runs a tool with an argument vector (no shell) and a 30 s limit; returns status and output.
    public static func run(_ executable: String, _ args: [String]) -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: executable) || !executable.contains("/") else {
            return (127, "not found: \(executable)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : "/usr/bin/env")
        p.arguments = executable.contains("/") ? args : [executable] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
