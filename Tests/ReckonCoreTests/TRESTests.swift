import ReckonCore
import Testing

@Suite struct TRESTests {
    @Test func parsesTypedGresSeparately() throws {
        // Real AllocTRES of job 6 in ../shared/sacct-samples (the --exclusive job).
        let t = try TRESQuantities.parse("billing=10,cpu=2,gres/gpu:a100=2,gres/gpu=2,mem=512M,node=1")
        #expect(t["cpu"] == 2)
        #expect(t["mem"] == 512)
        #expect(t["gres/gpu"] == 2)
        #expect(t["gres/gpu:a100"] == 2)
        #expect(t["node"] == 1)
        #expect(t.entries.count == 6)
    }

    @Test func memorySuffixesArePowersOf1024OfMiB() throws {
        #expect(try TRESQuantities.parse("mem=64G")["mem"] == 65_536)
        #expect(try TRESQuantities.parse("mem=1.5G")["mem"] == 1_536)
        #expect(try TRESQuantities.parse("mem=2T")["mem"] == 2 * 1_048_576)
        #expect(try TRESQuantities.parse("mem=1P")["mem"] == 1_073_741_824)
        #expect(try TRESQuantities.parse("mem=4000")["mem"] == 4_000)     // no suffix: MiB
        #expect(try TRESQuantities.parse("mem=2048K")["mem"] == 2)
        #expect(try TRESQuantities.parse("cpu=2K")["cpu"] == 2_048)       // counts scale by 1024 too
    }

    @Test func emptyIsEmpty() throws {
        #expect(try TRESQuantities.parse("").isEmpty)
    }

    @Test func badValuesAreNamed() {
        for bad in ["cpu", "cpu=abc", "=3", "mem=1.2.3G", "cpu=99999999999999999999"] {
            #expect(throws: TRESParseError.self, "\(bad)") { try TRESQuantities.parse(Substring(bad)) }
        }
        do { _ = try TRESQuantities.parse("cpu=x2") } catch { #expect(error.description.contains("\"x2\" of cpu")) }
    }
}
