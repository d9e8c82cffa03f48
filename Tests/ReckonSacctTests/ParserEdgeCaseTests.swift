import Foundation
import ReckonCore
import ReckonSacct
import Testing

/// Hand-made edge cases; expected values are worked out in the comments.
@Suite struct ParserEdgeCaseTests {
    static let header = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"

    func one(_ line: String) throws -> (runs: [JobRun], parser: SacctStreamParser) {
        try SampleFiles.parse(text: Self.header + "\n" + line + "\n")
    }

    @Test func durations() {
        #expect(SacctValues.duration("00:01:03") == 63)
        #expect(SacctValues.duration("1-00:00:00") == 86_400)
        #expect(SacctValues.duration("32-00:00:00") == Int64(2_764_800))    // days > 31: 32 × 86400
        #expect(SacctValues.duration("0-01:00:00") == 3_600)
        #expect(SacctValues.duration("05:30") == 330)                       // MM:SS
        #expect(SacctValues.duration("05:30.123") == 330)
        #expect(SacctValues.duration("850:00:00") == 3_060_000)
        #expect(SacctValues.duration("1-02:03:04.500000") == 93_784)
        for bad in ["", "INVALID", "1:2:3:4", "aa:bb", "00:61:00", "-1-00:00:00"] { #expect(SacctValues.duration(Substring(bad)) == nil, "\(bad)") }
    }

    @Test func runningAndPendingRuns() throws {
        let (runs, p) = try SampleFiles.parse(text: Self.header + "\n"
            + "100|100|5|c|HPC_A|alice|RUNNING|1000|1100|Unknown|50|0|cpu=4,mem=1G|cpu=4\n"
            + "101|101|6|c|hpc_a|bob|PENDING|1000|Unknown|Unknown|0|0||cpu=1\n"
            + "102|102|7|c|hpc_a|bob|CANCELLED by 1001|1000|None|1200|0|0||cpu=1\n")
        #expect(p.malformedCount == 0, "\(p.malformed)")
        #expect(runs[0].account == "hpc_a")                // lower-cased
        #expect(runs[0].isRunning)
        #expect(runs[0].allocTRES?["mem"] == 1_024)
        #expect(runs[1].start == nil && runs[1].end == nil)
        #expect(runs[2].start == nil && runs[2].end == nil)   // never started: its cancel time is no run time
        #expect(runs[2].state == "CANCELLED by 1001")
    }

    @Test func arrayHetAndRequeueIdentities() throws {
        let (runs, _) = try SampleFiles.parse(text: Self.header + "\n"
            + "19|4_1|30|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "4|4_3|32|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "50|50+1|33|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "60|60|34|c|a|u|REQUEUED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "60|60|35|c|a|u|COMPLETED|1003|1004|1005|1|0|cpu=1|cpu=1\n"
            + "4|4_[5-9]|36|c|a|u|PENDING|1000|Unknown|Unknown|0|0||cpu=1\n")
        #expect(runs.map(\.jobID) == ["4_1", "4_3", "50+1", "60", "60", "4_[5-9]"])
        #expect(Set(runs.map(\.identity)).count == 6)
        #expect(runs[3].identity == .dbIndex(cluster: "c", index: 34))
    }

    @Test func withoutDBIndexIdentityIsRawIDAndSubmit() throws {
        let (runs, _) = try SampleFiles.parse(text: "JobIDRaw|Account|User|Submit|Start|End\n60|a|u|1000|1001|1002\n60|a|u|1003|1004|1005\n")
        #expect(runs.map(\.identity) == [.jobIDRaw(cluster: "dflt", id: 60, submit: 1000), .jobIDRaw(cluster: "dflt", id: 60, submit: 1003)])
    }

    @Test func malformedRecordsAreKeptAndCountedNotFatal() throws {
        let (runs, p) = try SampleFiles.parse(text: Self.header + "\n"
            + "1|1|1|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "2|2|2|c|a|u|COMPLETED|1000|yesterday|1002|1|0|cpu=1|cpu=1\n"
            + "3|3|3|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=lots|cpu=1\n"
            + "4|4|4|c|a|u|COMPLETED|1000|1005|1002|1|0|cpu=1|cpu=1\n"
            + "5|5|5|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "6|6|6|c|a|u|COMPLE")   // truncated last line
        #expect(runs.map(\.jobID) == ["1", "5"])
        #expect(p.malformedCount == 4)
        #expect(p.malformed.map(\.line) == [3, 4, 5, 7])
        #expect(p.malformed[0].reason.contains("Start \"yesterday\""))
        #expect(p.malformed[1].reason.contains("\"lots\" of cpu"))
        #expect(p.malformed[2].reason.contains("before Start"))
        #expect(p.malformed[3].text.hasPrefix("6|6|6"))
    }

    @Test func trailingPipeAndCRLF() throws {
        let (runs, p) = try SampleFiles.parse(text: "JobIDRaw|Account|User|Submit|Start|End|\r\n1|a|u|1000|1001|1002|\r\n")
        #expect(p.malformedCount == 0)
        #expect(runs.count == 1)
    }

    @Test func missingFieldsAreNamed() {
        #expect {
            _ = try SampleFiles.parse(text: "JobID|User|Start\n1|u|1\n")
        } throws: { e in
            let d = (e as? SacctFormatError)?.description ?? ""
            return d.contains("Account") && d.contains("End") && d.contains("Submit (or DBIndex)")
        }
        #expect(throws: SacctFormatError.noHeader) { _ = try SampleFiles.parse(text: "") }
    }

    @Test func anyFieldOrderAndExtraFields() throws {
        let (runs, _) = try SampleFiles.parse(text: "Foo|End|User|Start|Account|JobID|Submit|AllocTRES|Bar\nx|2000|u|1000|A|9|900|cpu=3|y\n")
        #expect(runs.first?.end == 2000)
        #expect(runs.first?.allocTRES?["cpu"] == 3)
        #expect(runs.first?.account == "a")
    }

    @Test func suspendedAsDurationOrSeconds() throws {
        #expect(try one("1|1|1|c|a|u|COMPLETED|1000|1001|5000|100|01:00:00|cpu=1|cpu=1").runs.first?.suspended == 3_600)
        #expect(try one("1|1|1|c|a|u|COMPLETED|1000|1001|5000|100|120|cpu=1|cpu=1").runs.first?.suspended == 120)
    }

    @Test func overlongNamesAreMalformedRecords() throws {
        let long = String(repeating: "x", count: 600)
        let (runs, p) = try SampleFiles.parse(text: Self.header + "\n"
            + "1|1|1|c|a|u|COMPLETED|1000|1001|1002|1|0|billing=1,cpu=1,\(long)=1|cpu=1\n"
            + "2|2|2|c|\(long)|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n"
            + "3|3|3|c|a|u|COMPLETED|1000|1001|1002|1|0|cpu=1|cpu=1\n")
        #expect(runs.map(\.jobID) == ["3"])
        #expect(p.malformedCount == 2)
        #expect(p.malformed.first?.reason == "TRES name \"\(String(repeating: "x", count: 40))…\" is 600 bytes long; reckon accepts at most 64")
        #expect(p.malformed.last?.reason == "Account is 600 bytes long; reckon accepts at most 128")
    }

    /// Surplus `|` in free-text columns, on one line and in a record over two lines (a
    /// multi-line SubmitLine). Worked out by hand:
    /// - header 1 has 16 columns; JobName (1), SubmitLine (8) and Comment (9) are free text;
    /// - line A has 19 fields, 3 surplus `|`. Submit (7) holds a time only if JobName takes
    ///   exactly 1 (`a|b`), and Start (10) only if SubmitLine and Comment take the other 2
    ///   between them. The three ways to split those 2 give the same run, as neither column is
    ///   part of a run: job 7, DBIndex 70, account hpc_a, user ann, 1100–1200, cpu=2;
    /// - record B is two lines, glued at the newline in SubmitLine: 9 + 10 − 1 = 18 fields, so 2
    ///   surplus `|`. JobName taking one would put SubmitLine's text into Submit, so both go to
    ///   SubmitLine and Comment, in one of three ways, all the same run: job 8, 1100–1300;
    /// - header 2 has 15 columns; JobName (1) and Comment (4) are free text, with Account and
    ///   User between them. Line C has 16 fields, so 1 surplus `|`. In JobName (`a|b`) it reads
    ///   account hpc_a and user ann. In Comment (`ann|x`) it reads account b and user hpc_a.
    ///   Every typed column is the same under both, so they score the same: two readings, and
    ///   the record is reported as ambiguous.
    @Test func surplusSeparatorsInFreeTextColumns() throws {
        let header1 = "JobIDRaw|JobName|DBIndex|Cluster|Account|User|State|Submit|SubmitLine|Comment|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"
        let a = "7|a|b|70|c|hpc_a|ann|COMPLETED|1000|sbatch j.sh|x|y|z|1100|1200|100|0|cpu=2|cpu=2"
        let b1 = "8|job8|80|c|hpc_a|ann|COMPLETED|1000|sbatch --wrap 'a"
        let b2 = "|| b'||1100|1300|200|0|cpu=1|cpu=1"
        let (runs, p) = try SampleFiles.parse(text: [header1, a, b1, b2].joined(separator: "\n") + "\n")
        #expect(p.malformedCount == 0, "\(p.malformed)")
        #expect(runs.map(\.jobID) == ["7", "8"])
        #expect(runs.first?.identity == .dbIndex(cluster: "c", index: 70))
        #expect(runs.first?.account == "hpc_a" && runs.first?.user == "ann")
        #expect(runs.first?.start == 1100 && runs.first?.end == 1200 && runs.first?.allocTRES?["cpu"] == 2)
        #expect(runs.last?.identity == .dbIndex(cluster: "c", index: 80))
        #expect(runs.last?.start == 1100 && runs.last?.end == 1300)

        let header2 = "JobIDRaw|JobName|Account|User|Comment|DBIndex|Cluster|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"
        let c = "9|a|b|hpc_a|ann|x|90|c|COMPLETED|1000|1100|1400|300|0|cpu=1|cpu=1"
        let (none, q) = try SampleFiles.parse(text: header2 + "\n" + c + "\n")
        #expect(none.isEmpty)
        #expect(q.malformedCount == 1)
        #expect(q.malformed.first?.line == 2)
        #expect(q.malformed.first?.reason.contains("can be placed in more than one way") == true, "\(q.malformed)")
    }
}
