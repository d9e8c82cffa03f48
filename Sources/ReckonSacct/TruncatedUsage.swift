import ReckonCore

/// An independent recomputation of usage from `sacct --truncate` output, for `reckon verify`:
/// per (account, user, TRES) the sum over allocation rows of TRES amount × truncated `ElapsedRaw`
/// (slurmdbd's own clipping to the window, suspended time inside it already taken out). It
/// shares no arithmetic with reckon's projection — only the TRES-string reader.
public struct TruncatedUsage: Sendable {
    public static let fields = ["JobIDRaw", "JobID", "DBIndex", "Account", "User", "State", "Start", "End", "ElapsedRaw", "Suspended",
                                "AllocTRES", "ReqTRES"]

    /// Native TRES-seconds by (account, user, TRES).
    public private(set) var usage: [UsageKey: Int128] = [:]
    public private(set) var rows: UInt64 = 0
    public private(set) var malformed: [MalformedRecord] = []

    private let source: TRESSource
    private let month: BillingMonth
    private var carry: [UInt8] = []
    private var header: [String: Int]?
    private var line: UInt64 = 0

    /// `month` only labels the keys (the window is whatever sacct was asked for).
    public init(tresSource: TRESSource, label month: BillingMonth) {
        self.source = tresSource
        self.month = month
    }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        for b in chunk {
            if b == 10 { handle(String(decoding: carry, as: UTF8.self)); carry.removeAll(keepingCapacity: true) } else { carry.append(b) }
        }
    }

    public mutating func finish() {
        if !carry.isEmpty { handle(String(decoding: carry, as: UTF8.self)); carry.removeAll() }
    }

    mutating func handle(_ text: String) {
        line += 1
        let f = text.split(separator: "|", omittingEmptySubsequences: false)
        guard let h = header else {
            var idx: [String: Int] = [:]
            for (i, n) in f.enumerated() { idx[String(n)] = i }
            header = idx
            return
        }
        func field(_ n: String) -> Substring? { h[n].flatMap { $0 < f.count ? f[$0] : nil } }
        guard f.count == h.count else {
            malformed.append(MalformedRecord(line: line, reason: "has \(f.count) fields, the header has \(h.count)", text: text))
            return
        }
        let raw = field("JobIDRaw") ?? field("JobID") ?? ""
        if raw.contains(".") { return }
        guard let account = field("Account").map({ String($0).lowercased() }), let user = field("User").map(String.init),
              let elapsed = field("ElapsedRaw").flatMap({ Int64($0) }) else {
            malformed.append(MalformedRecord(line: line, reason: "no Account, User or ElapsedRaw", text: text))
            return
        }
        rows += 1
        guard elapsed > 0, let t = field(source == .alloc ? "AllocTRES" : "ReqTRES") else { return }
        do {
            for e in try TRESQuantities.parse(t).entries where e.amount != 0 {
                usage[UsageKey(month: month, account: account, user: user, tres: e.name), default: 0] += Int128(e.amount) * Int128(elapsed)
            }
        } catch {
            malformed.append(MalformedRecord(line: line, reason: error.description, text: text))
        }
    }
}
