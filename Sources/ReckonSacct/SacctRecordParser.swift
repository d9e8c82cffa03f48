import Foundation
import ReckonCore

/// Turns one sacct record (its fields, split on `|`) into a ``JobRun``, or says why not.
///
/// Job steps (`123.batch`, `123.0`, `123.extern`) are recognised and skipped: billing is per
/// allocation (`sacct -X`). Accounts are lower-cased, as Slurm stores them.
public struct SacctRecordParser: Sendable {
    public let header: SacctHeader
    public let timeZone: LocalTimeConverter
    /// Cluster name for records without a `Cluster` column.
    public let defaultCluster: String
    /// ``defaultCluster``'s length in bytes, for the fast path's size check.
    let defaultClusterUTF8Count: Int

    let iJobIDRaw, iJobID, iDBIndex, iCluster, iSubmit, iSuspended, iAllocTRES, iReqTRES, iState: Int?
    let iAccount, iUser, iStart, iEnd: Int

    public enum Outcome: Equatable {
        case run(JobRun)
        case step
        case malformed(String)
    }

    public init(header: SacctHeader, timeZone: TimeZone, defaultCluster: String) {
        self.header = header
        self.timeZone = LocalTimeConverter(timeZone: timeZone)
        self.defaultCluster = defaultCluster
        self.defaultClusterUTF8Count = defaultCluster.utf8.count
        iJobIDRaw = header.position(of: "JobIDRaw"); iJobID = header.position(of: "JobID")
        iDBIndex = header.position(of: "DBIndex"); iCluster = header.position(of: "Cluster")
        iSubmit = header.position(of: "Submit"); iSuspended = header.position(of: "Suspended")
        iAllocTRES = header.position(of: "AllocTRES"); iReqTRES = header.position(of: "ReqTRES")
        iState = header.position(of: "State")
        // SacctHeader's initialiser guarantees these exist.
        iAccount = header.position(of: "Account") ?? 0; iUser = header.position(of: "User") ?? 0
        iStart = header.position(of: "Start") ?? 0; iEnd = header.position(of: "End") ?? 0
    }

    /// Parses a record whose field count equals the header's.
    public func parse(_ f: [Substring]) -> Outcome {
        guard f.count == header.count else { return .malformed("has \(f.count) fields, the header has \(header.count)") }
        let rawID = iJobIDRaw.map { f[$0].trimmingSpaces } ?? ""
        let displayID = iJobID.map { f[$0].trimmingSpaces } ?? rawID
        if rawID.contains(".") || displayID.contains(".") { return .step }
        guard !rawID.isEmpty || !displayID.isEmpty else { return .malformed("empty JobIDRaw and JobID") }

        let cluster: String = {
            if let i = iCluster { let c = f[i].trimmingSpaces; if !c.isEmpty { return c } }
            return defaultCluster
        }()
        let account = f[iAccount].trimmingSpaces.lowercased()
        guard !account.isEmpty else { return .malformed("empty Account") }
        let user = f[iUser].trimmingSpaces
        guard !user.isEmpty else { return .malformed("empty User") }

        var submit: EpochSeconds = 0
        if let i = iSubmit {
            switch SacctValues.time(f[i], zone: timeZone) {
            case .at(let t)?: submit = t
            case .absent?: submit = 0
            case nil: return .malformed("Submit \"\(f[i])\" is not a time")
            }
        }
        var start: EpochSeconds?
        switch SacctValues.time(f[iStart], zone: timeZone) {
        case .at(let t)?: start = t
        case .absent?: start = nil
        case nil: return .malformed("Start \"\(f[iStart])\" is not a time")
        }
        var end: EpochSeconds?
        switch SacctValues.time(f[iEnd], zone: timeZone) {
        case .at(let t)?: end = t
        case .absent?: end = nil
        case nil: return .malformed("End \"\(f[iEnd])\" is not a time")
        }
        if let s = start, let e = end, e < s { return .malformed("End \(f[iEnd]) is before Start \(f[iStart])") }
        if start == nil { end = nil }   // never started: no run time, whatever End says (cancel time)
        for (name, t) in [("Start", start), ("End", end)] {
            if let t, t < 0 || t >= 7_258_118_400 { return .malformed("\(name) \(t) is outside 1970…2199") }
        }

        var suspended: Int64 = 0
        if let i = iSuspended {
            let text = f[i]
            if !text.trimmingSpaces.isEmpty {
                if let v = SacctValues.unsigned(text) { suspended = Int64(clamping: v) }
                else if let d = SacctValues.duration(text) { suspended = d }
                else { return .malformed("Suspended \"\(text)\" is not a duration") }
            }
        }

        let identity: JobRunIdentity
        if let i = iDBIndex, let db = SacctValues.unsigned(f[i]), db > 0 {
            identity = .dbIndex(cluster: cluster, index: db)
        } else if let raw = UInt64(rawID) {
            identity = .jobIDRaw(cluster: cluster, id: raw, submit: submit)
        } else {
            identity = .jobID(cluster: cluster, id: displayID, submit: submit)
        }
        if case .dbIndex = identity {} else if iSubmit == nil {
            return .malformed("no DBIndex and no Submit to tell runs apart")
        }

        var alloc: TRESQuantities?
        var req: TRESQuantities?
        do {
            if let i = iAllocTRES { alloc = try TRESQuantities.parse(Substring(f[i].trimmingSpaces)) }
            if let i = iReqTRES { req = try TRESQuantities.parse(Substring(f[i].trimmingSpaces)) }
        } catch {
            return .malformed(error.description)
        }
        let state = iState.map { f[$0].trimmingSpaces } ?? ""
        let run = JobRun(identity: identity, jobID: displayID.isEmpty ? rawID : displayID, account: account, user: user,
                           state: state, submit: submit, start: start, end: end, suspended: suspended,
                           allocTRES: alloc, reqTRES: req)
        if let why = Self.oversizedName(run) ?? Self.nameWithZeroByte(run) { return .malformed(why) }
        return .run(run)
    }

    /// Why the record's cluster, account, user or a TRES name holds a NUL byte, or nil. No Slurm
    /// name does (they are C strings): such a record is damaged output, and NUL separates the
    /// parts of a usage key, where it would make two owners' cells one. Reported, not recorded.
    public static func nameWithZeroByte(_ r: JobRun) -> String? {
        for (what, value) in [("Cluster", r.identity.cluster), ("Account", r.account), ("User", r.user)] where value.utf8.contains(0) {
            return "\(what) holds a NUL byte"
        }
        for t in [r.allocTRES, r.reqTRES] {
            for e in t?.entries ?? [] where e.name.utf8.contains(0) { return "a TRES name holds a NUL byte" }
        }
        return nil
    }

    /// Longest cluster, account, user, job id or state, and TRES name, in bytes. Real Slurm names
    /// are far shorter; the bound keeps every store key within LMDB's 511 bytes, so one absurd
    /// record is reported as malformed instead of failing the whole import.
    public static let maxNameBytes = 128
    public static let maxTRESNameBytes = 64

    public static func oversizedName(_ r: JobRun) -> String? {
        // No arrays or tuples here: this runs for every record.
        func long(_ what: String, _ value: String) -> String? {
            let n = value.utf8.count
            return n > maxNameBytes ? "\(what) is \(n) bytes long; reckon accepts at most \(maxNameBytes)" : nil
        }
        if let why = long("Cluster", r.identity.cluster) ?? long("Account", r.account) ?? long("User", r.user)
            ?? long("JobID", r.jobID) ?? long("State", r.state) {
            return why
        }
        if case .jobID(_, let id, _) = r.identity, let why = long("JobID", id) { return why }
        func longTRES(_ t: TRESQuantities?) -> String? {
            guard let t else { return nil }
            for e in t.entries where e.name.utf8.count > maxTRESNameBytes {
                return "TRES name \"\(e.name.prefix(40))…\" is \(e.name.utf8.count) bytes long; reckon accepts at most \(maxTRESNameBytes)"
            }
            return nil
        }
        return longTRES(r.allocTRES) ?? longTRES(r.reqTRES)
    }
}
