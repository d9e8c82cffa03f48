import Foundation

/// One row of `sacct --parsable2` output, by header name.
struct SacctRow: Sendable {
    var fields: [String: String]
    subscript(_ name: String) -> String { fields[name] ?? "" }
    func int(_ name: String) -> Int64? { Int64(self[name]) }
}

/// (account, user, TRES) → native TRES-seconds (memory in MiB-seconds).
struct UsageKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    var account: String
    var user: String
    var tres: String
    static func < (a: UsageKey, b: UsageKey) -> Bool { (a.account, a.user, a.tres) < (b.account, b.user, b.tres) }
    var description: String { "\(account)/\(user)/\(tres)" }
}
typealias NativeUsage = [UsageKey: Int128]

/// Real sacct, called exactly as documented (and as reckon's runner does): TZ=UTC,
/// SLURM_TIME_FORMAT=%s, -S/-E as UTC wall time; every call is logged to the artifact directory.
struct Sacct {
    var cluster: String
    var log: ArtifactLog

    static let truncateFormat = "JobIDRaw,DBIndex,Account,User,State,Start,End,ElapsedRaw,Suspended,AllocTRES,ReqTRES"
    static let dumpFormat = "JobIDRaw,JobID,DBIndex,Cluster,JobName,Account,User,State,Submit,Eligible,Start,End,ElapsedRaw,Suspended,AllocTRES,ReqTRES"

    static func utc(_ epoch: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    /// Runs sacct over [w1, w2) and returns its rows; `name` is the artifact file name.
    func rows(_ w1: Int64, _ w2: Int64, truncate: Bool, format: String, name: String) throws -> [SacctRow] {
        precondition(w1 < w2, "sacct treats -E == -S as -E + 1: never ask for an empty window")
        var args = ["--allusers", "--allocations", "--duplicates", "--parsable2", "--noconvert"]
        if truncate { args.append("--truncate") }
        args += ["--clusters=\(cluster)", "--starttime=\(Self.utc(w1))", "--endtime=\(Self.utc(w2))", "--format=\(format)"]
        let before = Int64(Date().timeIntervalSince1970)
        let r = try Shell.check("sacct", args, env: ["TZ": "UTC", "SLURM_TIME_FORMAT": "%s"], timeout: 60)
        let after = Int64(Date().timeIntervalSince1970)
        log.save(name, r.stdout, note: "command: \(r.command)\nwindow: [\(w1), \(w2)) = [\(Self.utc(w1)), \(Self.utc(w2))) UTC\nobserved: \(before)..\(after)")
        return try Self.parse(r.stdout, source: name)
    }

    static func parse(_ text: String, source: String) throws -> [SacctRow] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard !lines.isEmpty else { throw ShellError(description: "\(source): sacct printed nothing (not even a header)") }
        let header = lines.removeFirst().split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return try lines.enumerated().map { i, line in
            let v = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard v.count == header.count else { throw ShellError(description: "\(source): line \(i + 2) has \(v.count) fields, header \(header.count): \(line)") }
            return SacctRow(fields: Dictionary(uniqueKeysWithValues: zip(header, v)))
        }
    }

    /// The independent reference: Σ count(TRES in AllocTRES) × ElapsedRaw over sacct's own
    /// truncated rows of the window (every run: both runs of a requeued job). slurmdbd clips
    /// ElapsedRaw to the window and subtracts the suspended seconds inside it.
    static func usage(ofTruncated rows: [SacctRow], source: String) throws -> NativeUsage {
        var u: NativeUsage = [:]
        for r in rows {
            guard let elapsed = r.int("ElapsedRaw"), elapsed >= 0 else { throw ShellError(description: "\(source): bad ElapsedRaw in \(r.fields)") }
            guard let tres = parseTRES(r["AllocTRES"]) else { throw ShellError(description: "\(source): bad AllocTRES \(r["AllocTRES"])") }
            for (name, count) in tres {
                u[UsageKey(account: r["Account"], user: r["User"], tres: name), default: 0] += count * Int128(elapsed)
            }
        }
        return u
    }
}

/// Where the suite keeps every sacct output and reckon command it ran (with the exact command
/// lines), for a failure's post-mortem and as fixtures for fast unit tests.
final class ArtifactLog: @unchecked Sendable {
    let directory: String
    private var manifest = ""
    private let lock = NSLock()

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func save(_ name: String, _ content: String, note: String) {
        lock.lock(); defer { lock.unlock() }
        try? content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        manifest += "file: \(name)\n" + note.split(separator: "\n").map { "  \($0)\n" }.joined()
        try? manifest.write(toFile: directory + "/MANIFEST.txt", atomically: true, encoding: .utf8)
    }

    func note(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        manifest += text + "\n"
        try? manifest.write(toFile: directory + "/MANIFEST.txt", atomically: true, encoding: .utf8)
    }
}
