#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, fast, seedable PRNG (SplitMix64): the same seed gives the same rows on every machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// True with probability p.
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

/// Synthetic `sacct -P` output in exactly the format reckon's runner asks for
/// (``SacctCommand/fields``, epoch times, `Suspended` as `[D-]HH:MM:SS`, a header line), and the
/// same rows in the site-agent's 4-field form (`Account|ReqTRES|Elapsed|User`, `--noconvert`).
///
/// The mix: thousands of accounts and users (skewed: a few users submit most jobs, each user
/// works in 1–3 accounts), arrays (`123_4`), heterogeneous jobs (`123+1`), requeued runs
/// (same JobIDRaw, new DBIndex and Submit, the earlier run `REQUEUED`), long jobs that span a
/// month edge, jobs still running or pending at the observation time, suspended jobs, GPUs
/// (typed and untyped gres), exclusive nodes (AllocTRES above ReqTRES) and memory in M, G and K.
struct SacctGenerator {
    struct Options {
        var rows = 1_000_000
        var seed: UInt64 = 1
        var accounts = 2_000
        var users = 5_000
        var cluster = "hpc1"
        /// Jobs are submitted over [start, start + spanDays); observation time is the end of the span.
        var start: Int64 = 1_767_225_600   // 2026-01-01T00:00:00Z
        var spanDays: Int64 = 59           // to 2026-03-01: two billing months plus the edge
        var observedAt: Int64 { start + spanDays * 86_400 }
    }

    let o: Options
    var rnd: SplitMix64
    let accountNames: [String]
    let userNames: [String]
    private let userUIDs: [Int]
    /// `--names-out` (``GeneratorExtras``): where to list the names, if asked.
    private let namesOut: String?

    init(_ options: Options) {
        var o = options
        let extras = GeneratorExtras.fromCommandLine()
        extras.apply(to: &o)
        namesOut = extras.namesOut
        self.o = o
        rnd = SplitMix64(seed: o.seed)
        let words = ["phys", "chem", "bio", "astro", "climate", "ml", "geo", "mat", "cfd", "genom", "neuro", "qc"]
        accountNames = (0..<o.accounts).map { i in "hpc_\(words[i % words.count])\(i)" }
        userNames = (0..<o.users).map { i in i % 3 == 0 ? "u\(100_000 + i)" : (i % 3 == 1 ? "user\(i)" : "lab\(i % 97)_m\(i)") }
        userUIDs = (0..<o.users).map { 10_000 + $0 }
    }

    /// The accounts a user works in: 1–3, fixed by the user's index.
    func accountOf(user u: Int, pick: Int) -> Int {
        let h = UInt64(u) &* 0x9E37_79B9_7F4A_7C15
        let n = Int(h >> 62) % 3 + 1
        let k = pick % n
        return Int((h &+ UInt64(k) &* 0xD1B5_4A32_D192_ED03) >> 20) % o.accounts
    }

    struct Job {
        var rawID: UInt64
        var displayID: String
        var dbIndex: UInt64
        var account: Int
        var user: Int
        var state: String
        var submit: Int64
        var start: Int64?
        var end: Int64?
        var suspended: Int64
        var cpu: Int, nodes: Int, memMiB: Int, gpus: Int, exclusive: Bool
        var memForm: Int   // 0 = M, 1 = G, 2 = K
        var pending: Bool
    }

    /// Writes `rows` rows (plus the header) to `out`, and the 4-field rows to `peer` if given.
    mutating func run(out: inout BufferedOutput, peer: inout BufferedOutput?) {
        if let namesOut { writeNames(to: namesOut) }
        out.write("JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES\n")
        var written = 0
        var nextRaw: UInt64 = 1_000_000
        var nextDB: UInt64 = 5_000_000
        let spanSeconds = o.spanDays * 86_400
        while written < o.rows {
            // Submission times grow with the row number, so DBIndex order is submit order, as in sacct.
            let submit = o.start + Int64(Double(written) / Double(o.rows) * Double(spanSeconds)) + Int64(rnd.below(60))
            let u = skewedUser()
            let acct = accountOf(user: u, pick: rnd.below(3))
            var proto = Job(rawID: 0, displayID: "", dbIndex: 0, account: acct, user: u, state: "", submit: submit,
                            start: nil, end: nil, suspended: 0, cpu: 1, nodes: 1, memMiB: 1000, gpus: 0, exclusive: false,
                            memForm: 0, pending: false)
            drawResources(&proto)
            /// `members` runs sharing `proto`, one JobIDRaw each, display ids base<separator>i.
            func group(_ members: Int, _ separator: String) {
                let base = nextRaw
                for i in 0..<members where written < o.rows {
                    var j = proto
                    j.rawID = nextRaw; nextRaw += 1
                    j.dbIndex = nextDB; nextDB += 1
                    j.displayID = "\(base)\(separator)\(i)"
                    schedule(&j, submit: submit)
                    emit(j, out: &out, peer: &peer); written += 1
                }
            }
            let kind = rnd.unit()
            if kind < 0.12 {
                group(2 + rnd.below(23), "_")   // an array: 2–24 tasks
            } else if kind < 0.125 {
                group(2, "+")                   // a heterogeneous job: components id+0, id+1
            } else if kind < 0.145 {
                // Requeued: 1–2 earlier runs REQUEUED, then the run that counts; same JobIDRaw,
                // new DBIndex, and Submit reset to the requeue time.
                let raw = nextRaw; nextRaw += 1
                var s = submit
                let requeues = 1 + rnd.below(2)
                for r in 0...requeues where written < o.rows {
                    var j = proto
                    j.rawID = raw
                    j.displayID = "\(raw)"
                    j.dbIndex = nextDB; nextDB += 1
                    schedule(&j, submit: s)
                    if r < requeues, let st = j.start, st < o.observedAt {
                        let cut = min(o.observedAt - 1, st + 60 + Int64(rnd.below(3_600)))
                        j.end = cut; j.state = "REQUEUED"; j.suspended = 0
                        s = cut + 1
                    }
                    emit(j, out: &out, peer: &peer); written += 1
                    if j.state != "REQUEUED" { break }
                }
            } else {
                var j = proto
                j.rawID = nextRaw; nextRaw += 1
                j.dbIndex = nextDB; nextDB += 1
                j.displayID = "\(j.rawID)"
                schedule(&j, submit: submit)
                emit(j, out: &out, peer: &peer); written += 1
            }
        }
    }

    /// A few users submit most jobs: index ~ users × r³.
    mutating func skewedUser() -> Int {
        let r = rnd.unit()
        return min(o.users - 1, Int(Double(o.users) * r * r * r))
    }

    mutating func drawResources(_ j: inout Job) {
        let cpus = [1, 1, 2, 4, 4, 8, 16, 32, 64, 128]
        j.cpu = cpus[rnd.below(cpus.count)]
        j.nodes = max(1, j.cpu / 64)
        let perCPU = [500, 1_000, 2_000, 4_000, 8_000]
        j.memMiB = j.cpu * perCPU[rnd.below(perCPU.count)]
        if rnd.chance(0.12) { j.gpus = [1, 2, 4, 8][rnd.below(4)] }
        j.exclusive = rnd.chance(0.05)
        let f = rnd.unit()
        j.memForm = f < 0.85 ? 0 : (f < 0.95 ? 1 : 2)
        if j.memForm == 1 { j.memMiB = (j.memMiB + 1_023) / 1_024 * 1_024 }
    }

    /// Start, end and state: most jobs finish; some are still running or pending at the
    /// observation time; a few run for days across a month edge; some were suspended.
    mutating func schedule(_ j: inout Job, submit: Int64) {
        j.submit = submit
        j.suspended = 0
        if rnd.chance(0.01) {
            j.pending = true; j.state = "PENDING"; j.start = nil; j.end = nil
            return
        }
        let start = submit + Int64(rnd.unit() * rnd.unit() * 7_200)
        let d = rnd.unit()
        let duration: Int64
        if d < 0.60 { duration = 30 + Int64(rnd.below(7_200)) }
        else if d < 0.90 { duration = 7_200 + Int64(rnd.below(79_200)) }
        else if d < 0.98 { duration = 86_400 + Int64(rnd.below(2 * 86_400)) }
        else { duration = 3 * 86_400 + Int64(rnd.below(11 * 86_400)) }
        if start >= o.observedAt {
            j.pending = true; j.state = "PENDING"; j.start = nil; j.end = nil
            return
        }
        j.pending = false
        j.start = start
        let end = start + duration
        if end >= o.observedAt {
            j.end = nil; j.state = "RUNNING"
            return
        }
        j.end = end
        if rnd.chance(0.01) { j.suspended = Int64(rnd.below(Int(duration / 2) + 1)) }
        let s = rnd.unit()
        if s < 0.75 { j.state = "COMPLETED" }
        else if s < 0.85 { j.state = "FAILED" }
        else if s < 0.92 { j.state = "CANCELLED by \(userUIDs[j.user])" }
        else if s < 0.97 { j.state = "TIMEOUT" }
        else { j.state = "OUT_OF_MEMORY" }
    }

    func emit(_ j: Job, out: inout BufferedOutput, peer: inout BufferedOutput?) {
        let account = accountNames[j.account], user = userNames[j.user]
        out.int(j.rawID); out.byte(124)
        out.write(j.displayID); out.byte(124)
        out.int(j.dbIndex); out.byte(124)
        out.write(o.cluster); out.byte(124)
        out.write(account); out.byte(124)
        out.write(user); out.byte(124)
        out.write(j.state); out.byte(124)
        out.int(j.submit); out.byte(124)
        if let s = j.start { out.int(s) } else { out.write("Unknown") }
        out.byte(124)
        if let e = j.end { out.int(e) } else { out.write("Unknown") }
        out.byte(124)
        let elapsed = j.start.map { (j.end ?? o.observedAt) - $0 } ?? 0
        out.int(elapsed); out.byte(124)
        out.duration(j.suspended); out.byte(124)
        if !j.pending { tres(j, alloc: true, into: &out) }
        out.byte(124)
        tres(j, alloc: false, into: &out)
        out.byte(10)
        if peer != nil {
            peer!.write(account); peer!.byte(124)
            tres(j, alloc: false, into: &peer!, peerForm: true)
            peer!.byte(124)
            peer!.duration(elapsed); peer!.byte(124)
            peer!.write(user); peer!.byte(10)
        }
    }

    /// `billing=…,cpu=…,[gres/gpu:a100=…,]gres/gpu=…,mem=…,node=…` in sacct's (sorted) order.
    /// AllocTRES of an exclusive job holds whole nodes; ReqTRES names untyped GPUs only. The
    /// site-agent's form (`peerForm`) has memory in M, as `--noconvert` prints it.
    func tres(_ j: Job, alloc: Bool, into out: inout BufferedOutput, peerForm: Bool = false) {
        let cpu = alloc && j.exclusive ? j.nodes * 64 : j.cpu
        let mem = alloc && j.exclusive ? j.nodes * 256_000 : j.memMiB
        out.write("billing="); out.int(cpu + j.gpus * 8)
        out.write(",cpu="); out.int(cpu)
        if j.gpus > 0 {
            if alloc { out.write(",gres/gpu:a100="); out.int(j.gpus) }
            out.write(",gres/gpu="); out.int(j.gpus)
        }
        out.write(",mem=")
        switch peerForm || (alloc && j.exclusive) ? 0 : j.memForm {
        case 1: out.int(mem / 1_024); out.byte(UInt8(ascii: "G"))
        case 2: out.int(mem * 1_024); out.byte(UInt8(ascii: "K"))
        default: out.int(mem); out.byte(UInt8(ascii: "M"))
        }
        out.write(",node="); out.int(j.nodes)
    }
}

/// Buffered writes to a file descriptor, with integer and duration formatting that never
/// builds a String.
struct BufferedOutput {
    let fd: Int32
    var buffer: [UInt8] = []
    init(fd: Int32) { self.fd = fd; buffer.reserveCapacity(1 << 20) }

    mutating func byte(_ b: UInt8) { buffer.append(b); if buffer.count >= 1 << 20 { flush() } }
    mutating func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 20 { flush() }
    }
    mutating func int<T: BinaryInteger>(_ v: T) {
        var v = Int64(v)
        if v < 0 { buffer.append(45); v = -v }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            repeat { t[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            while n > 0 { n -= 1; buffer.append(t[n]) }
        }
    }
    mutating func two(_ v: Int64) { buffer.append(UInt8(48 + v / 10)); buffer.append(UInt8(48 + v % 10)) }
    /// `[D-]HH:MM:SS`, as sacct prints Elapsed and Suspended.
    mutating func duration(_ s: Int64) {
        let d = s / 86_400, h = s % 86_400 / 3_600, m = s % 3_600 / 60, sec = s % 60
        if d > 0 { int(d); buffer.append(45) }
        two(h); buffer.append(58); two(m); buffer.append(58); two(sec)
    }
    mutating func flush() {
        var off = 0
        buffer.withUnsafeBytes { b in
            while off < b.count {
                let n = systemWrite(fd, b.baseAddress! + off, b.count - off)
                if n <= 0 { if errno == EINTR { continue }; perror("write"); exit(2) }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// `write(2)`, under a name that does not clash with ``BufferedOutput/write(_:)``.
func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
