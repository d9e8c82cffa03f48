import Foundation
import ReckonCore
import ReckonLMDB
import Testing

/// Issue 7, faults outside reckon: storage. A full LMDB map or a full disk gives a clear error,
/// loses nothing committed, and reckon works again once there is room; a state directory from a
/// newer reckon is refused rather than misread.
@Suite(.serialized) struct StorageFaultTests {
    /// A sacct dump of `count` one-minute jobs (new identities from `firstID`), all in 2026-11.
    static func bigDump(count: Int, firstID: Int = 100_000, extraTRES: Int = 0) -> String {
        let extra = (0..<extraTRES).map { ",gres/gpu:type\($0)=1" }.joined()
        var s = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES\n"
        let accounts = ["hpc_alloc_a", "hpc_alloc_b", "hpc_alloc_c", "physics"], users = ["alice", "bob", "carol"]
        for i in 0..<count {
            let id = firstID + i
            let start = 1_793_500_000 + i * 37
            let tres = "billing=1,cpu=\(1 + i % 8),mem=\(64 * (1 + i % 16))M,node=1" + extra
            s += "\(id)|\(id)|\(id)|reckon|\(accounts[i % 4])|\(users[i % 3])|COMPLETED|\(start - 5)|\(start)|\(start + 60)|60|00:00:00|\(tres)|\(tres)\n"
        }
        return s
    }

    @Test func aFullMapIsAClearErrorKeepsWhatWasCommittedAndWorksWithMoreRoom() async throws {
        let h = try CLIHarness()
        try h.writeConfig(extraReckon: "max_map_size_mb: 16")
        let small = try await h.reckon("ingest", ["--from", h.dumpPath])
        #expect(small.status == 0, "\(small.all)")
        let committed = try await h.reckon("events", ["--json", "--limit", "100"]).stdout
        let usageBefore = try await h.reckon("usage", ["--month", "2026-11", "--json"]).stdout
        #expect(!usageBefore.isEmpty)
        let big = h.dir + "/big.psv"
        // 12 000 runs with 90 GPU types each (ReqTRES equal to AllocTRES is stored once): well over
        // 16 MiB of events. The first batches (4,096 runs, then 8,192) are smaller than the whole:
        // the map fills part-way, after some batches committed.
        try CLIHarness.write(Self.bigDump(count: 12_000, extraTRES: 90), to: big)
        let full = try await h.reckon("ingest", ["--from", big])
        #expect(full.status == 1, "\(full.all)")
        #expect(full.stderr.contains("the event store at \(h.stateDir) is full (LMDB map of 16777216 bytes); nothing from the failed write was committed."),
                "\(full.stderr)")
        // What was committed before is intact, the batches that committed are kept (their usage
        // is in the table: replay agrees with it) and readers still work.
        let afterFull = try await h.reckon("events", ["--json", "--limit", "100000000"]).stdout
        #expect(afterFull.hasPrefix(committed))
        #expect(afterFull.count > committed.count, "no batch of the big import committed")
        #expect(try await h.reckon("replay").status == 0)
        let usageAfterFull = try await h.reckon("usage", ["--month", "2026-11", "--json"])
        #expect(usageAfterFull.status == 0 && usageAfterFull.stdout != usageBefore)
        // More room: the same import now completes; the runs committed before are unchanged.
        try h.writeConfig(extraReckon: "max_map_size_mb: 1024")
        let retry = try await h.reckon("ingest", ["--from", big])
        #expect(retry.status == 0, "\(retry.all)")
        let counts = retry.stdout.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(counts.count >= 3 && counts[0] == 12_000 && counts[1] > 0 && counts[2] > 0 && counts[1] + counts[2] == 12_000,
                "\(retry.stdout)")
        #expect(try await h.reckon("replay").status == 0)
        let events = try await h.reckon("events", ["--json", "--limit", "100000000"]).stdout
        #expect(events.hasPrefix(afterFull))
    }

    static let canMountTmpfs: Bool = {
        guard geteuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "reckon-tmpfs-probe-" + UUID().uuidString
        guard mkdir(probe, 0o700) == 0 else { return false }
        defer { rmdir(probe) }
        let r = try? CLIHarness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], env: ProcessInfo.processInfo.environment)
        guard r?.status == 0 else { return false }
        _ = try? CLIHarness.run("/bin/umount", [probe], env: ProcessInfo.processInfo.environment)
        return true
    }()

    /// Needs root and permission to mount a tmpfs (CI runs as root); elsewhere it is skipped.
    @Test(.enabled(if: canMountTmpfs, "needs permission to mount a small tmpfs"))
    func aFullDiskIsAClearErrorKeepsWhatWasCommittedAndWorksOnceThereIsRoom() async throws {
        let h = try CLIHarness()
        let mnt = h.dir + "/disk"
        #expect(mkdir(mnt, 0o700) == 0)
        let env = ProcessInfo.processInfo.environment
        let mount = try CLIHarness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mnt], env: env)
        try #require(mount.status == 0, "\(mount.all)")
        defer { _ = try? CLIHarness.run("/bin/umount", ["-l", mnt], env: env) }
        let state = mnt + "/state"
        let args = ["--state-dir", state]
        try h.writeConfig()
        let small = try await h.reckon("ingest", ["--from", h.dumpPath] + args)
        #expect(small.status == 0, "\(small.all)")
        let committed = try await h.reckon("events", ["--json"] + args).stdout
        let big = h.dir + "/big.psv"
        try CLIHarness.write(Self.bigDump(count: 30_000), to: big)
        let full = try await h.reckon("ingest", ["--from", big] + args)
        #expect(full.status == 1, "\(full.all)")
        let clear = "no space left on the device holding \(state); nothing from the failed write was committed. Free space and run again"
        // LMDB turns a short write into EIO; reckon recognises the full device behind it.
        #expect(full.stderr.contains(clear), "\(full.stderr)")
        // Batches committed before the disk filled stay; nothing before them is lost.
        let during = try await h.reckon("events", ["--json", "--limit", "100000000"] + args)
        #expect(during.status == 0)
        #expect(during.stdout.hasPrefix(committed))
        #expect(try await h.reckon("replay", args).status == 0)
        // Room again: the import completes.
        let grow = try CLIHarness.run("/bin/mount", ["-o", "remount,size=256m", mnt], env: env)
        try #require(grow.status == 0, "\(grow.all)")
        let retry = try await h.reckon("ingest", ["--from", big] + args)
        #expect(retry.status == 0, "\(retry.all)")
        #expect(try await h.reckon("replay", args).status == 0)
        let events = try await h.reckon("events", ["--json", "--limit", "100000000"] + args).stdout
        #expect(events.hasPrefix(committed))
    }

    @Test func aStateDirectoryFromANewerReckonIsRefusedNotMisread() async throws {
        let h = try CLIHarness()
        try h.writeConfig()
        #expect(try await h.reckon("ingest", ["--from", h.dumpPath]).status == 0)
        let newer = EventCodec.formatVersion + 1
        do {
            let store = try LMDBEventStore(directory: h.stateDir)
            try store.write { w in
                var b = ByteWriter()
                b.u32BE(newer)
                try w.setMeta(ProjectionMeta.format, b.bytes)
            }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: h.stateDir + "/data.mdb"))
        let message = "the state at \(h.stateDir) has format \(newer), written by a newer reckon; this reckon reads format \(EventCodec.formatVersion) or older. Refusing to open it rather than misread it"
        for (cmd, args) in [("events", []), ("usage", ["--month", "2026-11"]), ("replay", []), ("ingest", ["--from", h.dumpPath]), ("sync", [String]())] {
            let r = try await h.reckon(cmd, args)
            #expect(r.status == 1, "\(cmd): \(r.all)")
            #expect(r.stderr.contains(message), "\(cmd): \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: h.stateDir + "/data.mdb")) == before)
    }
}
