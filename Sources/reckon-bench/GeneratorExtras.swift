#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of `reckon-bench gen` beyond the ones `main.swift` reads, for the daemon-scale
/// benchmark (`tools/bench/daemon-scale`):
///
///   --start YYYY-MM-DD   first submission day (UTC midnight; default 2026-01-01)
///   --span-days N        submissions over [start, start + N days); the observation time is the
///                        end of the span (default 59). `--start 2026-03-01 --span-days 28` puts
///                        every job, running ones included, into March 2026.
///   --names-out FILE     also write every account and user name the generator can draw, one
///                        `account NAME` / `user NAME` per line, so a Waldur simulator seed can
///                        name the same accounts (resource backend_id) and users (offering users).
///
/// They are read from the command line directly: `main.swift` collects every `--name value`
/// pair without judging names, so these pass through it.
struct GeneratorExtras {
    var start: Int64?
    var spanDays: Int64?
    var namesOut: String?

    static func fromCommandLine() -> GeneratorExtras {
        var extras = GeneratorExtras()
        // argv is `reckon-bench gen --name value …`: the pairs start after the subcommand.
        let args = Array(CommandLine.arguments.dropFirst(2))
        var i = 0
        while i + 1 < args.count {
            let name = args[i], value = args[i + 1]
            switch name {
            case "--start":
                guard let t = epochOfDay(value) else { die("--start: expected YYYY-MM-DD, got \(value)") }
                extras.start = t
            case "--span-days":
                guard let n = Int64(value), n > 0, n <= 3_650 else { die("--span-days: expected 1…3650, got \(value)") }
                extras.spanDays = n
            case "--names-out":
                extras.namesOut = value
            default:
                break
            }
            i += 2
        }
        return extras
    }

    func apply(to o: inout SacctGenerator.Options) {
        if let start { o.start = start }
        if let spanDays { o.spanDays = spanDays }
    }

    /// UTC midnight of `YYYY-MM-DD` as epoch seconds (proleptic Gregorian), or nil.
    static func epochOfDay(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
              (1970...2199).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        let monthDays: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        guard d <= monthDays[Int(m - 1)] + (m == 2 && leap ? 1 : 0) else { return nil }
        // Days from civil (H. Hinnant).
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400
    }

    static func die(_ message: String) -> Never {
        let text = "reckon-bench: \(message)\n"
        _ = text.withCString { systemWrite(2, $0, strlen($0)) }
        exit(2)
    }
}

extension SacctGenerator {
    /// Writes every account and user name this generator can draw (see ``GeneratorExtras``).
    func writeNames(to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { GeneratorExtras.die("cannot write \(path): \(String(cString: strerror(errno)))") }
        var out = BufferedOutput(fd: fd)
        for a in accountNames { out.write("account "); out.write(a); out.byte(10) }
        for u in userNames { out.write("user "); out.write(u); out.byte(10) }
        out.flush()
        close(fd)
    }
}
