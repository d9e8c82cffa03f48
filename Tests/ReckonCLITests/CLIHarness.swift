import Foundation
import Logging
import WaldurSimulator

/// Runs the real `reckon` executable (built beside this test bundle) against a Waldur simulator
/// on loopback and a stand-in sacct, in a private temporary directory. Nothing of reckon is mocked.
final class CLIHarness: @unchecked Sendable {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ rel: String) -> String { repo.appendingPathComponent(rel).path }

    static let offering = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
    static let customer = "c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f"
    static let resources = ["hpc_alloc_a": "10a0f810be1c43bbb651e8cbdbb90198", "hpc_alloc_b": "20a0f810be1c43bbb651e8cbdbb90198",
                            "hpc_alloc_c": "30a0f810be1c43bbb651e8cbdbb90198", "physics": "40a0f810be1c43bbb651e8cbdbb90198"]
    /// The clock of every command and of the simulator: after the fixture's jobs, same month.
    static let now = "2026-11-27T12:00:00Z"
    static let nowEpoch: TimeInterval = 1_795_780_800

    /// The reckon executable: `RECKON_BIN`, else `reckon` in the directory of the running test bundle.
    static var reckonPath: String {
        if let p = ProcessInfo.processInfo.environment["RECKON_BIN"], !p.isEmpty { return p }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("reckon").path
    }

    let dir: String
    let binDir: String
    var sim: WaldurSimulator?
    var token: String
    var configPath: String { dir + "/config.yaml" }
    var stateDir: String { dir + "/state" }
    var dumpPath: String { dir + "/sacct.psv" }
    var sacctLog: String { dir + "/sacct.log" }

    init(token: String = "prov0123456789abcdef0123456789abcdef0123") throws {
        let base = NSTemporaryDirectory() + "reckon-cli-" + UUID().uuidString
        guard mkdir(base, 0o700) == 0 else { throw HarnessError("cannot create \(base)") }
        dir = base
        binDir = base + "/bin"
        guard mkdir(binDir, 0o700) == 0 else { throw HarnessError("cannot create \(binDir)") }
        self.token = token
        guard FileManager.default.isExecutableFile(atPath: Self.reckonPath) else {
            throw HarnessError("the reckon executable is not at \(Self.reckonPath): build it first (swift build --build-tests) or set RECKON_BIN")
        }
        try Self.write(try String(contentsOfFile: Self.fixture("fixtures/slurm/dump-epoch.psv"), encoding: .utf8), to: dumpPath)
        try installSacct(Self.goodSacct)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    // MARK: files

    static func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        guard chmod(path, mode) == 0 else { throw HarnessError("chmod \(path) failed") }
    }

    /// A stand-in sacct printing `dumpPath` (or whatever `body` does), logging its argv.
    static let goodSacct = #"cat "$RECKON_TEST_DUMP""#

    func installSacct(_ body: String) throws {
        let script = """
        #!/usr/bin/env bash
        {
          printf 'argv:'; printf ' [%s]' "$@"; printf '\\n'
        } >> "$RECKON_TEST_SACCT_LOG"
        \(body)
        """
        try Self.write(script, to: binDir + "/sacct", mode: 0o700)
    }

    static var seedUsers: String {
        "users:\n  - {token: TOKEN, username: reporter, service_provider_for: [\(customer)]}\n"
    }

    static func seedYAML(token: String, backendIDs: [String: String] = resources) -> String {
        var s = """
        users:
          - {token: \(token), username: reporter, service_provider_for: [\(customer)]}
        offerings:
          - uuid: \(offering)
            customer_uuid: \(customer)
            name: HPC
            service_provider_can_create_offering_user: true
            components:
              - {type: cpu, billing_type: usage, measured_unit: CPU-minutes}
              - {type: mem, billing_type: usage, measured_unit: GiB-minutes}
              - {type: gres/gpu, billing_type: usage, measured_unit: GPU-minutes}
        resources:

        """
        for (b, u) in backendIDs.sorted(by: { $0.key < $1.key }) {
            s += "  - {uuid: \(u), offering_uuid: \(offering), backend_id: \(yamlQuote(b)), state: OK, name: r\(u.prefix(4))}\n"
        }
        s += "offering_users:\n"
        for (i, user) in ["alice", "bob", "carol"].enumerated() {
            s += "  - {uuid: 3e2d1c0b9a8f7e6d5c4b3a291807060\(i), offering_uuid: \(offering), username: \(user), user_username: \(user)@example.org}\n"
        }
        return s
    }

    static func yamlQuote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    // MARK: simulator

    @discardableResult
    func startSimulator(seedToken: String? = nil, port: Int = 0, backendIDs: [String: String] = resources,
                        faults: SimulatorFaults = .none) async throws -> WaldurSimulator {
        var logger = Logger(label: "sim")
        logger.logLevel = .critical
        let s = try await WaldurSimulator.start(seed: try SimulatorSeed(yaml: Self.seedYAML(token: seedToken ?? token, backendIDs: backendIDs)),
                                                port: port, statePath: dir + "/sim-state.json", faults: faults, logger: logger)
        await s.setNow(Date(timeIntervalSince1970: Self.nowEpoch))
        sim = s
        return s
    }

    func stopSimulator() async {
        await sim?.stop()
        sim = nil
    }

    // MARK: config

    /// A site-agent style config pointing at the simulator, the stand-in sacct and the state dir.
    func writeConfig(extraReckon: String = "", clusterName: String = "reckon", binDir: String? = nil, mode: mode_t = 0o600,
                     apiURL: String? = nil) throws {
        let url = apiURL ?? (sim.map { $0.baseURL + "/api/" } ?? "http://127.0.0.1:9/api/")
        let text = """
        timezone: "UTC"
        reporting_periods: 2
        offerings:
          - name: "HPC"
            waldur_api_url: "\(url)"
            waldur_api_token: "\(token)"
            waldur_offering_uuid: "\(Self.offering)"
            backend_type: "slurm"
            backend_settings:
              slurm_bin_path: \(Self.yamlQuote(binDir ?? self.binDir))
              cluster_name: \(Self.yamlQuote(clusterName))
            backend_components:
              cpu: {measured_unit: "CPU-minutes", unit_factor: 1, accounting_type: "usage"}
              mem: {measured_unit: "GiB-minutes", unit_factor: 1024, accounting_type: "usage"}
              gres/gpu: {measured_unit: "GPU-minutes", unit_factor: 1, accounting_type: "usage"}
        reckon:
          state_dir: "\(stateDir)"
        \(extraReckon.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
        try Self.write(text + "\n", to: configPath, mode: mode)
    }

    // MARK: running reckon

    struct Result {
        var status: Int32
        var signalled: Bool
        var stdout: String
        var stderr: String
        var all: String { stdout + "\n" + stderr }
    }

    var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["RECKON_TEST_DUMP"] = dumpPath
        e["RECKON_TEST_SACCT_LOG"] = sacctLog
        e.removeValue(forKey: "RECKON_FAULT_POINT")
        return e
    }

    /// `reckon <command> -c config --now NOW <args>`; `withConfig: false` leaves -c and --now out.
    /// Waits on a thread of its own, never on the cooperative pool: the in-process simulator needs
    /// that pool to answer the reckon being waited for.
    func reckon(_ command: String, _ args: [String] = [], withConfig: Bool = true, env: [String: String] = [:],
                safetyTimeout: TimeInterval = 300) async throws -> Result {
        var argv = [command]
        if withConfig { argv += ["-c", configPath, "--now", Self.now] }
        argv += args
        let s = try Spawned(Self.reckonPath, argv, env: environment.merging(env) { _, b in b })
        return await s.finished(safetyTimeout: safetyTimeout)
    }

    /// Starts reckon without waiting (the daemon); the caller stops it.
    func spawn(_ command: String, _ args: [String] = [], env: [String: String] = [:]) throws -> Spawned {
        try Spawned(Self.reckonPath, [command, "-c", configPath, "--now", Self.now] + args, env: environment.merging(env) { _, b in b })
    }

    /// Runs a process to completion. `safetyTimeout` only guards the test run against a hang
    /// (the process is killed and the result says so); no test asserts on elapsed time.
    static func run(_ exe: String, _ args: [String], env: [String: String], safetyTimeout: TimeInterval = 300) throws -> Result {
        let s = try Spawned(exe, args, env: env)
        return s.wait(safetyTimeout: safetyTimeout)
    }

    // MARK: reading results

    func storedUsages() async throws -> (totals: [String: String], users: [String: String]) {
        guard let sim else { throw HarnessError("no simulator") }
        let json = await sim.storedUsagesJSON()
        guard let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { throw HarnessError("bad /_sim/usages") }
        var totals: [String: String] = [:], users: [String: String] = [:]
        for u in doc["component_usages"] as? [[String: Any]] ?? [] {
            let resource = (u["resource_uuid"] as? String ?? "").replacingOccurrences(of: "-", with: "")
            totals["\(resource)/\(u["type"] as? String ?? "")/\(u["billing_period"] as? String ?? "")"] = u["usage"] as? String
        }
        for u in doc["user_usages"] as? [[String: Any]] ?? [] {
            let resource = (u["resource_uuid"] as? String ?? "").replacingOccurrences(of: "-", with: "")
            let key = "\(resource)/\(u["type"] as? String ?? "")/\(u["billing_period"] as? String ?? "")/\(u["username"] as? String ?? "")"
            users[key] = u["usage"] as? String
        }
        return (totals, users)
    }

    /// Desired totals for 2026-11 as the simulator keys them, from `reckon usage --json`.
    func desiredTotals() async throws -> [String: String] {
        let r = try await reckon("usage", ["--month", "2026-11", "--json"])
        guard r.status == 0 else { throw HarnessError("usage failed: \(r.all)") }
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let acct = (o["resource"] as? String)?.lowercased(), let uuid = Self.resources[acct],
                  let c = o["component"] as? String, let a = o["amount"] as? String else { continue }
            if a != "0.00" && a != "0" { out["\(uuid)/\(c)/2026-11-01"] = a }
        }
        return out
    }

    /// Non-zero totals the simulator stores for 2026-11 (a zero stored and nothing stored are the same).
    func storedTotals() async throws -> [String: String] {
        try await storedUsages().totals.filter { $0.key.hasSuffix("/2026-11-01") && $0.value != "0.00" }
    }

    /// The event log as JSON objects.
    func events() async throws -> [[String: Any]] {
        let r = try await reckon("events", ["--json", "--limit", "10000000"])
        guard r.status == 0 else { throw HarnessError("events failed: \(r.all)") }
        return try r.stdout.split(separator: "\n").map {
            guard let o = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else { throw HarnessError("not JSON: \($0)") }
            return o
        }
    }

    func count(_ kind: String, in events: [[String: Any]]) -> Int { events.filter { $0["kind"] as? String == kind }.count }

    /// Every regular file under `path`, recursively.
    static func files(under path: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let full = path + "/" + rel
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out.append(full) }
        }
        return out
    }
}

/// A running child process with its output collected on background threads.
final class Spawned: @unchecked Sendable {
    let process = Process()
    private let out = Pipe(), err = Pipe()
    private var outData = Data(), errData = Data()
    private let group = DispatchGroup()
    private let lock = NSLock()

    init(_ exe: String, _ args: [String], env: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = args
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            group.enter()
            Thread.detachNewThread { [self] in
                let d = handle.readDataToEndOfFile()
                lock.lock()
                if isOut { outData = d } else { errData = d }
                lock.unlock()
                group.leave()
            }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ s: Int32) { kill(process.processIdentifier, s) }

    /// `wait` on a dedicated thread, for async callers.
    func finished(safetyTimeout: TimeInterval = 300) async -> CLIHarness.Result {
        await withCheckedContinuation { (c: CheckedContinuation<CLIHarness.Result, Never>) in
            Thread.detachNewThread { c.resume(returning: self.wait(safetyTimeout: safetyTimeout)) }
        }
    }

    func wait(safetyTimeout: TimeInterval = 300) -> CLIHarness.Result {
        let deadline = Date().addingTimeInterval(safetyTimeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        group.wait()
        lock.lock(); defer { lock.unlock() }
        return CLIHarness.Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                                 stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
