import Foundation
import Testing

// The suite's own reference arithmetic, checked without a cluster (these always run): the
// rounding, the parsers, and the per-window sums against tools/slurm-sandbox/expected.py's output
// for the committed real sacct fixtures (fixtures/slurm/truncate-*.psv → expected.tsv).

@Suite("Slurm suite reference arithmetic")
struct ReferenceArithmeticTests {
    @Test("half to even, to the cent", arguments: [
        (Int128(5), Int128(10), Int128(0)), (15, 10, 2), (25, 10, 2), (35, 10, 4), (14, 10, 1), (16, 10, 2),
        (-5, 10, 0), (-15, 10, -2), (-16, 10, -2), (0, 7, 0),
    ])
    func halfEven(n: Int128, d: Int128, q: Int128) {
        #expect(divideHalfEven(n, d) == q)
    }

    @Test("native TRES-seconds to Waldur units")
    func units() {
        // 106 cpu-seconds = 1.7666… CPU-minutes → 1.77; 27136 MiB-s / (60 × 1024) = 0.44166… → 0.44
        #expect(DecimalFactor("1")!.cents(nativeSeconds: 106).description == "1.77")
        #expect(DecimalFactor("1024")!.cents(nativeSeconds: 27136).description == "0.44")
        // exactly half a cent: 3 s / 60 / 1 = 0.05 → 5 cents; 0.3 s-equivalents round to even
        #expect(DecimalFactor("1")!.cents(nativeSeconds: 3).value == 5)
        #expect(DecimalFactor("100")!.cents(nativeSeconds: 30).value == 0)     // 0.005 → 0.00 (even)
        #expect(DecimalFactor("100")!.cents(nativeSeconds: 90).value == 2)     // 0.015 → 0.02 (even)
        #expect(DecimalFactor("0.25")!.cents(nativeSeconds: 60).description == "4.00")
        #expect(DecimalFactor("abc") == nil && DecimalFactor("0") == nil && DecimalFactor("1.") == nil)
    }

    @Test("parsers: amounts, TRES counts, sacct durations")
    func parsers() {
        #expect(Cents(parsing: "12")?.value == 1200)
        #expect(Cents(parsing: "0.4")?.value == 40)
        #expect(Cents(parsing: "-3.25")?.value == -325)
        #expect(Cents(parsing: "1.234") == nil && Cents(parsing: "x") == nil)
        #expect(Cents(value: -5).description == "-0.05")
        #expect(tresCount("512M") == 512 && tresCount("1G") == 1024 && tresCount("2048K") == 2 && tresCount("1000K") == nil)
        #expect(parseTRES("billing=2,cpu=2,gres/gpu:a100=1,gres/gpu=1,mem=512M,node=1") ==
                ["billing": 2, "cpu": 2, "gres/gpu:a100": 1, "gres/gpu": 1, "mem": 512, "node": 1])
        #expect(durationSeconds("00:00:09") == 9 && durationSeconds("1-02:03:04") == 93784 && durationSeconds("05:06") == 306)
        #expect(floorDiv(-7, 2) == -4 && floorDiv(7, 2) == 3)
    }

    @Test("per-window sums equal expected.py's for the committed real sacct fixtures")
    func fixtureSums() throws {
        let dir = SlurmCluster.repositoryRoot + "/fixtures/slurm"
        let tsv = try String(contentsOfFile: dir + "/expected.tsv", encoding: .utf8)
        var expected: [String: NativeUsage] = [:]
        for line in tsv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8, let v = Int128(f[7]) else { Issue.record("unexpected line \(line)"); continue }
            expected[f[0], default: [:]][UsageKey(account: f[3], user: f[4], tres: f[5])] = v
        }
        #expect(expected.count >= 5)
        for (window, want) in expected {
            let text = try String(contentsOfFile: dir + "/truncate-\(window).psv", encoding: .utf8)
            let got = try Sacct.usage(ofTruncated: try Sacct.parse(text, source: window), source: window)
            #expect(got == want, "window \(window)")
        }
    }
}
