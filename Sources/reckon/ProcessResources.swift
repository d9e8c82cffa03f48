#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The CPU time and peak memory of this process, from `getrusage(2)`: `RUSAGE_SELF` (every
/// thread of reckon, nothing else) and, separately, `RUSAGE_CHILDREN` (the sacct processes it ran
/// and waited for). Logged at the end of `reckon sync` so a tick's own cost can be told apart from
/// sacct's (tools/bench/daemon-scale reads it).
struct ProcessResources: Sendable {
    var userSeconds: Double
    var systemSeconds: Double
    var childrenUserSeconds: Double
    var childrenSystemSeconds: Double
    var maxRSSKiB: Int

    var cpuSeconds: Double { userSeconds + systemSeconds }
    var childrenCPUSeconds: Double { childrenUserSeconds + childrenSystemSeconds }

    static func current() -> ProcessResources {
        var me = rusage(), children = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &me)
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
        #else
        getrusage(RUSAGE_SELF, &me)
        getrusage(RUSAGE_CHILDREN, &children)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return ProcessResources(userSeconds: seconds(me.ru_utime), systemSeconds: seconds(me.ru_stime),
                                childrenUserSeconds: seconds(children.ru_utime), childrenSystemSeconds: seconds(children.ru_stime),
                                maxRSSKiB: Int(me.ru_maxrss))
    }

    func log(_ logger: Logger, _ message: Logger.Message) {
        logger.info(message, metadata: [
            "cpu_user_seconds": "\(Self.fixed(userSeconds))", "cpu_system_seconds": "\(Self.fixed(systemSeconds))",
            "cpu_seconds": "\(Self.fixed(cpuSeconds))", "children_cpu_seconds": "\(Self.fixed(childrenCPUSeconds))",
            "max_rss_kib": "\(maxRSSKiB)",
        ])
    }

    /// Six decimals (getrusage's resolution is a microsecond).
    static func fixed(_ v: Double) -> String {
        let micro = Int64((v * 1e6).rounded())
        let frac = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }
}
