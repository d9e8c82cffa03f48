import ReckonCore
import Testing

@Suite struct AmountTests {
    func comp(_ factor: String) -> Component { Component(name: "cpu", unitFactor: ExactDecimal(parsing: factor)!) }

    // Expected values by hand: amount = native seconds / (60 × unit_factor), half-even to cents.
    @Test func convertsExactly() {
        // 8 CPUs for 2 days = 8 × 172800 CPU-s = 23040 CPU-min; / 60000 = 0.384 → 0.38
        #expect(comp("60000").amount(fromNativeSeconds: 8 * 172_800)?.description == "0.38")
        // 2 GPUs for 2 days = 5760 GPU-min; / 60 = 96.00
        #expect(comp("60").amount(fromNativeSeconds: 2 * 172_800)?.description == "96.00")
        // 65536 MiB for 2 days = 188743680 MiB-min; / 61440 = 3072.00
        #expect(comp("61440").amount(fromNativeSeconds: 65_536 * 172_800)?.description == "3072.00")
        // unit factor 0.5: 90 s = 1.5 min / 0.5 = 3.00
        #expect(comp("0.5").amount(fromNativeSeconds: 90)?.description == "3.00")
        #expect(comp("1").amount(fromNativeSeconds: 0)?.description == "0.00")
    }

    @Test func roundsHalfToEvenOnExactTies() {
        // unit_factor 2: cents = native × 100 / 120. native 3 → 2.5 → 2; 9 → 7.5 → 8; 15 → 12.5 → 12.
        #expect(comp("2").amount(fromNativeSeconds: 3)?.description == "0.02")
        #expect(comp("2").amount(fromNativeSeconds: 9)?.description == "0.08")
        #expect(comp("2").amount(fromNativeSeconds: 15)?.description == "0.12")
        // not a tie: native 4 → 3.33 → 3
        #expect(comp("2").amount(fromNativeSeconds: 4)?.description == "0.03")
    }

    @Test func parsesWaldurDecimalStrings() {
        #expect(WaldurAmount(parsing: "12.3")?.description == "12.30")
        #expect(WaldurAmount(parsing: "12.345600")?.description == "12.35")  // 12.3456 → 12.35
        #expect(WaldurAmount(parsing: "7")?.description == "7.00")
        #expect(WaldurAmount(parsing: "0.125")?.description == "0.12")
        #expect(WaldurAmount(parsing: "-1.2")?.description == "-1.20")
        #expect(WaldurAmount(parsing: "abc") == nil)
        #expect(WaldurAmount(parsing: "") == nil)
    }

    @Test func exactDecimalParsing() {
        #expect(ExactDecimal(parsing: "60000")?.description == "60000")
        #expect(ExactDecimal(parsing: "0.50")?.description == "0.5")
        #expect(ExactDecimal(parsing: "6e4")?.description == "60000")
        for bad in ["abc", "", "-1", "1.2.3", "nan", "inf"] { #expect(ExactDecimal(parsing: bad) == nil, "\(bad)") }
    }
}
