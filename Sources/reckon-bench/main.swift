#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ReckonCore
import ReckonEngine
import ReckonLMDB

/// reckon-bench: the synthetic sacct generator and the in-process benchmark workloads.
///
///   reckon-bench gen --rows N [--seed S] [--accounts A] [--users U] [--out FILE] [--peer-out FILE]
///   reckon-bench ingest --from FILE --state-dir DIR [--batch N]
///   reckon-bench replay --state-dir DIR
///
/// `ingest` and `replay` print one JSON object each (see tools/bench/run and docs/performance.md).
/// Both use the real engine: IngestService over an LMDBEventStore opened as `reckon` opens it,
/// and ReplayCheck. The projection settings are reckon's defaults (UTC months, AllocTRES).

func usage() -> Never {
    try? FileHandle.standardError.write(contentsOf: Data("""
    usage: reckon-bench gen --rows N [--seed S] [--accounts A] [--users U] [--out FILE] [--peer-out FILE]
           reckon-bench ingest --from FILE --state-dir DIR [--batch N]
           reckon-bench replay --state-dir DIR

    """.utf8))
    exit(2)
}

func fail(_ message: String) -> Never {
    try? FileHandle.standardError.write(contentsOf: Data("reckon-bench: \(message)\n".utf8))
    exit(1)
}

let (command, options): (String, [String: String]) = {
    var args = Array(CommandLine.arguments.dropFirst())
    guard let command = args.first else { usage() }
    args.removeFirst()
    var options: [String: String] = [:]
    while let a = args.first {
        guard a.hasPrefix("--"), args.count >= 2 else { usage() }
        options[String(a.dropFirst(2))] = args[1]
        args.removeFirst(2)
    }
    return (command, options)
}()

func int(_ name: String, _ d: Int) -> Int {
    guard let v = options[name] else { return d }
    guard let i = Int(v.replacingOccurrences(of: "_", with: "")) else { fail("--\(name): not a number: \(v)") }
    return i
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func maxRSSKiB() -> Int {
    var ru = rusage()
    getrusage(0, &ru)   // RUSAGE_SELF
    return Int(ru.ru_maxrss)
}

/// RssAnon and RssFile from /proc/self/status, in KiB (Linux), to tell heap from mapped file pages.
func residentSplit() -> String {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "{}" }
    var parts: [String] = []
    for line in text.split(separator: "\n") where line.hasPrefix("RssAnon") || line.hasPrefix("RssFile") || line.hasPrefix("VmHWM") {
        let f = line.split(separator: ":")
        parts.append("\"\(f[0])\":\(f[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "0")")
    }
    return "{" + parts.joined(separator: ",") + "}"
}

func openOutput(_ path: String?) -> Int32 {
    guard let path, path != "-" else { return 1 }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    return fd
}

let settings = ProjectionSettings(calendar: MonthCalendar(timeZone: TimeZone(identifier: "UTC")!), tresSource: .alloc)

switch command {
case "gen":
    var o = SacctGenerator.Options()
    o.rows = int("rows", o.rows)
    o.seed = UInt64(int("seed", Int(o.seed)))
    o.accounts = int("accounts", o.accounts)
    o.users = int("users", o.users)
    guard o.rows >= 0, o.accounts > 0, o.users > 0 else { fail("rows ≥ 0, accounts and users > 0") }
    var out = BufferedOutput(fd: openOutput(options["out"]))
    var peer: BufferedOutput? = options["peer-out"].map { BufferedOutput(fd: openOutput($0)) }
    var g = SacctGenerator(o)
    g.run(out: &out, peer: &peer)
    out.flush()
    peer?.flush()
    if out.fd != 1 { close(out.fd) }
    if let p = peer { close(p.fd) }

case "ingest":
    guard let from = options["from"], let dir = options["state-dir"] else { usage() }
    let t0 = now()
    let ledger: Ledger
    do {
        ledger = try StateStore.openLedger(directory: dir, settings: settings, maxMapSizeMB: 1 << 20, readOnly: false)
    } catch { fail("\(error)") }
    var service = IngestService(ledger: ledger)
    if let b = options["batch"], let n = Int(b) { service.batchSize = n; service.firstBatchSize = n }   // every batch n runs
    let outcome: IngestService.Outcome
    do {
        outcome = try service.ingestFile(path: from, timeZone: TimeZone(identifier: "UTC")!,
                                         observedAt: SacctGenerator.Options().observedAt, defaultCluster: "default")
    } catch { fail("\(error)") }
    let t1 = now()
    let events = (try? ledger.store.read { try $0.eventCount() }) ?? 0
    var st = stat()
    let size = stat(dir + "/data.mdb", &st) == 0 ? Int(st.st_size) : -1
    let rows = outcome.records + outcome.observations.reduce(0) { $0 + $1.skippedSteps } + outcome.malformedCount
    print("""
    {"rows":\(rows),"records":\(outcome.records),"new_versions":\(outcome.newVersions),"unchanged":\(outcome.unchanged),\
    "malformed":\(outcome.malformedCount),"seconds":\(t1 - t0),"rows_per_s":\(Double(rows) / (t1 - t0)),\
    "events":\(events),"data_mdb_bytes":\(size),"bytes_per_event":\(events > 0 ? Double(size) / Double(events) : 0),\
    "max_rss_kib":\(maxRSSKiB()),"resident_kib_at_end":\(residentSplit())}
    """)

case "replay":
    guard let dir = options["state-dir"] else { usage() }
    let ledger: Ledger
    do {
        ledger = try StateStore.openLedger(directory: dir, settings: settings, maxMapSizeMB: 1 << 20, readOnly: true)
    } catch { fail("\(error)") }
    let result: ReplayCheck.Result
    do { result = try ReplayCheck.run(ledger, clock: now) } catch { fail("\(error)") }
    print("""
    {"events":\(result.events),"seconds":\(result.seconds),"events_per_s":\(result.eventsPerSecond),\
    "identical":\(result.identical),"max_rss_kib":\(maxRSSKiB())}
    """)
    if !result.identical { exit(1) }

default:
    usage()
}
