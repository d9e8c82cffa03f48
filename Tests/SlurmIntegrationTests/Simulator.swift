import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `reckon waldur-sim` as a child process on 127.0.0.1 (a free port), stopped by its own PID.
final class SimulatorProcess: @unchecked Sendable {
    static let offering = "8f7e6d5c-4b3a-2918-0f1e-2d3c4b5a6978"
    static let customer = "c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f"
    static let token = "slurmit0provider0token000000000000000001"
    /// Waldur resources: backend_id → uuid. PHYSICS is spelled in upper case on purpose (Waldur
    /// allows it, Slurm lower-cases account names), as on the demo seed.
    static let resources = ["hpc_alloc_a": "11a0f810be1c43bbb651e8cbdbb90198", "hpc_alloc_b": "22a0f810be1c43bbb651e8cbdbb90198",
                            "hpc_alloc_c": "33a0f810be1c43bbb651e8cbdbb90198", "PHYSICS": "44a0f810be1c43bbb651e8cbdbb90198"]
    static let users = ["alice", "bob", "carol"]

    let process = Process()
    let url: String

    static func seed(components: [(String, String)]) -> String {
        var s = """
        users:
          - {token: \(token), username: reporter, service_provider_for: [\(customer)]}
        offerings:
          - uuid: \(offering)
            customer_uuid: \(customer)
            name: Slurm sandbox
            service_provider_can_create_offering_user: true
            components:

        """
        for (type, unit) in components { s += "      - {type: \(type), billing_type: usage, measured_unit: \(unit)}\n" }
        s += "resources:\n"
        for (b, u) in resources.sorted(by: { $0.key < $1.key }) {
            s += "  - {uuid: \(u), offering_uuid: \(offering), backend_id: \(b), state: OK, name: \(b.lowercased())}\n"
        }
        s += "offering_users:\n"
        for (i, user) in users.enumerated() {
            s += "  - {uuid: 5e2d1c0b9a8f7e6d5c4b3a291807060\(i), offering_uuid: \(offering), username: \(user), user_username: \(user)@example.org}\n"
        }
        return s
    }

    init(reckon: String, seedPath: String, directory: String) throws {
        let out = directory + "/sim.out", err = directory + "/sim.log"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.executableURL = URL(fileURLWithPath: reckon)
        process.arguments = ["waldur-sim", "--seed", seedPath, "--port", "0"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: String?
        while found == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first, text.contains("\n") {
                found = line.split(separator: " ").last.map(String.init)
            } else { usleep(50_000) }
        }
        guard let found, found.hasPrefix("http://127.0.0.1:") else {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            throw ShellError(description: "reckon waldur-sim did not announce its port: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
        url = found
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()   // SIGTERM to the simulator's own PID
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func json(_ path: String) async throws -> [String: Any] {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url + path)!)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
              let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ShellError(description: "GET \(path): unexpected answer \(String(decoding: data, as: UTF8.self).prefix(500))")
        }
        return obj
    }

    /// Stored values: (billing period YYYY-MM-01, account lower-cased, user or nil, component) → amount.
    struct StoredKey: Hashable, Comparable, CustomStringConvertible {
        var period: String, account: String, user: String?, component: String
        static func < (a: StoredKey, b: StoredKey) -> Bool {
            (a.period, a.account, a.user ?? "", a.component) < (b.period, b.account, b.user ?? "", b.component)
        }
        var description: String { "\(period) \(account)/\(user ?? "(total)")/\(component)" }
    }

    func storedUsages() async throws -> [StoredKey: Cents] {
        let doc = try await json("/_sim/usages")
        let account = Dictionary(uniqueKeysWithValues: Self.resources.map { ($0.value, $0.key.lowercased()) })
        func acct(_ uuid: Any?) -> String {
            let u = (uuid as? String ?? "").replacingOccurrences(of: "-", with: "").lowercased()
            return account[u] ?? "?\(u)"
        }
        var out: [StoredKey: Cents] = [:]
        for cu in doc["component_usages"] as? [[String: Any]] ?? [] {
            guard let usage = Cents(parsing: "\(cu["usage"] ?? "")") else { throw ShellError(description: "bad usage \(cu)") }
            out[StoredKey(period: "\(cu["billing_period"] ?? "")", account: acct(cu["resource_uuid"]), user: nil, component: "\(cu["type"] ?? "")")] = usage
        }
        for uu in doc["user_usages"] as? [[String: Any]] ?? [] {
            guard let usage = Cents(parsing: "\(uu["usage"] ?? "")") else { throw ShellError(description: "bad user usage \(uu)") }
            out[StoredKey(period: "\(uu["billing_period"] ?? "")", account: acct(uu["resource_uuid"]), user: "\(uu["username"] ?? "")",
                          component: "\(uu["type"] ?? "")")] = usage
        }
        return out
    }

    func writeRequests() async throws -> Int {
        let doc = try await json("/_sim/requests")
        let counts = doc["counts"] as? [String: Any] ?? [:]
        return counts.filter { $0.key.hasPrefix("POST /api/") }.reduce(0) { $0 + (($1.value as? Int) ?? 0) }
    }
}
