import Foundation
import ReckonCore
import ReckonSacct
import Testing

/// Every real `sacct -P` sample with a header imports. Record counts come from the samples'
/// README (jobs 1–12, 15–18 in the window; job 4 is a 3-task array: 19 allocations; 13 and 14
/// never started and appear only under --state=CA) and from counting rows by eye.
@Suite struct RealSampleTests {
    @Test(arguments: ["", "cgroup-mode/"])
    func allocationDumpsImport(mode: String) throws {
        for name in ["allocations_ALL.psv", "allocations_jobs-sh-format_header.psv", "allocations_raw-numbers_noconvert.psv",
                     "allocations_epoch-times.psv"] {
            let (runs, p) = try SampleFiles.parse(SampleFiles.path(mode + name))
            #expect(p.malformedCount == 0, "\(mode)\(name): \(p.malformed)")
            #expect(runs.count == 18, "\(mode)\(name)")
            #expect(p.steps == 0)
        }
    }

    @Test func stepDumpsSkipSteps() throws {
        let (runs, p) = try SampleFiles.parse(SampleFiles.path("steps_with-header.psv"))
        #expect(runs.count == 18)
        #expect(p.steps > 0)
        #expect(p.malformedCount == 0)
        let all = try SampleFiles.parse(SampleFiles.path("steps_ALL.psv"))
        #expect(all.runs.count == 18)
        #expect(all.parser.malformedCount == 0, "\(all.parser.malformed)")
    }

    @Test func cancelledSampleIncludesNeverStartedJobs() throws {
        let (runs, _) = try SampleFiles.parse(SampleFiles.path("allocations_state-CA_incl-never-started.psv"))
        #expect(runs.count == 3)
        let never = runs.filter { $0.allocTRES?.isEmpty ?? true }
        #expect(never.count == 2)
        #expect(runs.first { $0.jobID == "15" }?.state == "CANCELLED by 1001")
    }

    @Test func longFormatLacksAccountsAndSaysSo() throws {
        #expect {
            _ = try SampleFiles.parse(SampleFiles.path("allocations_long_-l.psv"))
        } throws: { e in
            (e as? SacctFormatError)?.description.contains("Account, User, Start, End") == true
        }
    }

    /// The ALL dump has job 2's multi-line SubmitLine and job 12's `|` in JobName, Comment and
    /// SubmitLine; both must come out whole and right.
    @Test func recoversMultiLineAndPipeRecords() throws {
        let (runs, _) = try SampleFiles.parse(SampleFiles.path("allocations_ALL.psv"))
        let j2 = try #require(runs.first { $0.jobID == "2" })
        #expect(j2.account == "hpc_alloc_b")
        #expect(j2.allocTRES?["cpu"] == 2)
        let j12 = try #require(runs.first { $0.jobID == "12" })
        #expect(j12.account == "physics")
        #expect(j12.user == "bob")
        #expect(j12.identity.cluster == "sandbox")
    }

    /// The same instant printed in three zones (tz_* samples of job 1) reads as one epoch second,
    /// the one SLURM_TIME_FORMAT=%s printed (allocations_epoch-times.psv: Submit 1795743582).
    @Test(arguments: [("UTC", "2026-11-27T01:39:42"), ("Asia/Kolkata", "2026-11-27T07:09:42"), ("America/New_York", "2026-11-26T20:39:42")])
    func isoTimesReadInTheirZone(zone: String, submit: String) throws {
        let text = "JobIDRaw|Account|User|Submit|Start|End\n1|hpc_alloc_a|alice|\(submit)|\(submit)|\(submit)\n"
        let (runs, _) = try SampleFiles.parse(text: text, zone: zone)
        #expect(runs.first?.submit == 1_795_743_582)
    }

    /// Active seconds from Start/End agree with sacct's ElapsedRaw for every allocation.
    @Test func startEndAgreeWithElapsedRaw() throws {
        let path = SampleFiles.path("allocations_raw-numbers_noconvert.psv")
        let (runs, _) = try SampleFiles.parse(path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var elapsed: [String: Int64] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "|", omittingEmptySubsequences: false)
            elapsed[String(f[0])] = Int64(f[7])
        }
        for r in runs {
            guard let s = r.start, let e = r.end, case .jobIDRaw(_, let id, _) = r.identity else { continue }
            #expect(e - s - r.suspended == elapsed[String(id)], "job \(id)")
        }
    }
}
