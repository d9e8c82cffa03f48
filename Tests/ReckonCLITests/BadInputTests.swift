import Foundation
import Testing

/// Runs every row of the executed tables of docs/bad-input.md against the real `reckon`: the exit
/// status and the exact text standard error must contain. The catalogue is the test's data, so
/// the document cannot drift from what reckon says.
@Suite struct BadInputTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let id: String, kind: String, input: String, exit: Int32, message: String
        var testDescription: String { id }
    }

    static let header = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"

    /// Splits a markdown table line on `|` not preceded by a backslash, and unescapes `\|`.
    static func cells(_ line: String) -> [String] {
        var out: [String] = [], cur = "", prev: Character = " "
        for ch in line {
            if ch == "|" && prev != "\\" { out.append(cur); cur = "" } else { cur.append(ch) }
            prev = ch
        }
        out.append(cur)
        return out.dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\\|", with: "|") }
    }

    static func code(_ cell: String) -> String {
        var s = Substring(cell)
        if s.hasPrefix("`") { s = s.dropFirst() }
        if s.hasSuffix("`") { s = s.dropLast() }
        return String(s)
    }

    static let rows: [Row] = {
        let path = CLIHarness.fixture("docs/bad-input.md")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Row? in
            let c = cells(String(line))
            guard c.count == 5, ["cli", "config", "sacct"].contains(c[1]), let exit = Int32(c[3]) else { return nil }
            return Row(id: c[0], kind: c[1], input: code(c[2]), exit: exit, message: code(c[4]))
        }
    }()

    @Test func theCatalogueIsRead() {
        #expect(Self.rows.count >= 80, "only \(Self.rows.count) executable rows in docs/bad-input.md")
        #expect(Set(Self.rows.map(\.id)).count == Self.rows.count, "duplicate ids")
    }

    static func unescape(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let rest = s[i...]
            if rest.hasPrefix("\\n") { out.append(10); i = s.index(i, offsetBy: 2); continue }
            if rest.hasPrefix("\\x"), let b = UInt8(String(rest.dropFirst(2).prefix(2)), radix: 16) {
                out.append(b); i = s.index(i, offsetBy: 4); continue
            }
            out += Array(String(s[i]).utf8)
            i = s.index(after: i)
        }
        return out
    }

    @Test(arguments: rows)
    func row(_ r: Row) async throws {
        let h = try CLIHarness()
        try h.writeConfig()
        let empty = h.dir + "/empty.yaml"
        try CLIHarness.write("timezone: UTC\nreckon:\n  state_dir: \(h.stateDir)\n", to: empty)
        let file = h.dir + "/input"
        var argv: [String]
        switch r.kind {
        case "cli":
            argv = r.input.split(separator: " ").map {
                String($0).replacingOccurrences(of: "$CONFIG", with: h.configPath).replacingOccurrences(of: "$EMPTY", with: empty)
                    .replacingOccurrences(of: "$DUMP", with: h.dumpPath)
            }
        case "config":
            let sync = r.input.hasPrefix("sync:")
            let body = sync ? String(r.input.dropFirst(5)) : r.input
            FileManager.default.createFile(atPath: file, contents: Data(Self.unescape(body) + [10]), attributes: [.posixPermissions: 0o600])
            // The harness's state directory, not the default one (/var/lib/reckon as root): a
            // configuration without `state_dir` must not touch the machine's state.
            argv = (sync ? ["sync", "-c", file] : ["usage", "-c", file, "--month", "2026-11"]) + ["--state-dir", h.stateDir]
        default:
            let body = r.input == "∅" ? [] : Self.unescape(r.input.replacingOccurrences(of: "$H", with: Self.header)) + [10]
            FileManager.default.createFile(atPath: file, contents: Data(body))
            argv = ["ingest", "-c", h.configPath, "--from", file]
        }
        let res = try await h.reckon(argv[0], Array(argv.dropFirst()), withConfig: false, env: ["XDG_STATE_HOME": h.dir + "/xdg"])
        #expect(res.status == r.exit, "\(r.id): reckon \(argv.joined(separator: " "))\n\(res.all)")
        if r.message.isEmpty {
            #expect(!res.stderr.contains("rror"), "\(r.id): expected no error\ngot «\(res.stderr)»")
        } else {
            #expect(res.stderr.contains(r.message), "\(r.id): expected «\(r.message)»\ngot «\(res.stderr)»")
        }
        #expect(!res.signalled)
    }

    /// A writer killed before its first commit leaves an LMDB environment with nothing in it;
    /// readers see an empty log (not an error) and the next writer initialises it. Found by the
    /// crash harness (seed 20261139, a random-delay kill of the first ingest).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mdb_load"), "needs mdb_load (lmdb-utils)"))
    func aStoreWhoseFirstWriterWasKilledReadsAsEmpty() async throws {
        let h = try CLIHarness()
        try h.writeConfig()
        #expect(mkdir(h.stateDir, 0o700) == 0)
        // An environment whose only commit left the main database empty: no reckon table in it.
        let dumpFile = h.dir + "/empty.dump"
        try CLIHarness.write("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\nDATA=END\n", to: dumpFile)
        let load = try CLIHarness.run("/usr/bin/mdb_load", ["-f", dumpFile, h.stateDir], env: ProcessInfo.processInfo.environment)
        try #require(load.status == 0, "\(load.all)")
        for (cmd, args) in [("events", ["--json"]), ("replay", []), ("usage", ["--month", "2026-11"])] {
            let r = try await h.reckon(cmd, args)
            #expect(r.status == 0, "\(cmd): \(r.all)")
        }
        let w = try await h.reckon("ingest", ["--from", h.dumpPath])
        #expect(w.status == 0, "\(w.all)")
        #expect(try await h.events().count == 15)
    }
}
