import PropertyBased
import ReckonCore
import Testing

@Suite struct ActiveTimeTests {
    @Test func withoutSuspensionItIsTheOverlap() {
        // run [100, 200), window [150, 400) → 50 s
        #expect(ActiveTime.seconds(start: 100, end: 200, suspended: 0, within: 150, 400) == 50)
        #expect(ActiveTime.seconds(start: 100, end: 200, suspended: 0, within: 200, 400) == 0)
        #expect(ActiveTime.seconds(start: 100, end: 200, suspended: 0, within: 0, 100) == 0)
        #expect(ActiveTime.seconds(start: 100, end: 100, suspended: 0, within: 0, 1000) == 0)
    }

    @Test func suspensionIsSpreadEvenly() {
        // run of 100 s with 50 s suspended: half of every part is active.
        #expect(ActiveTime.seconds(start: 0, end: 100, suspended: 50, within: 0, 100) == 50)
        #expect(ActiveTime.seconds(start: 0, end: 100, suspended: 50, within: 0, 40) == 20)
        #expect(ActiveTime.seconds(start: 0, end: 100, suspended: 50, within: 40, 100) == 30)
        // suspended longer than the run (bad data) counts nothing, never negative
        #expect(ActiveTime.seconds(start: 0, end: 100, suspended: 500, within: 0, 100) == 0)
    }

    /// Property: cutting a run at any points splits its active seconds exactly.
    @Test func partsAlwaysSumToTheWhole() async {
        await propertyCheck(input: Gen.int(in: 1...5_000_000), Gen.int(in: 0...6_000_000), Gen.int(in: 0...5_000_000),
                            Gen.int(in: 0...5_000_000)) { wall, suspended, cut1, cut2 in
            let start: Int64 = 1_700_000_000
            let end = start + Int64(wall)
            let a = start + Int64(min(cut1, cut2)), b = start + Int64(max(cut1, cut2))
            let whole = ActiveTime.seconds(start: start, end: end, suspended: Int64(suspended), within: start, end)
            let p1 = ActiveTime.seconds(start: start, end: end, suspended: Int64(suspended), within: .min / 2, a)
            let p2 = ActiveTime.seconds(start: start, end: end, suspended: Int64(suspended), within: a, b)
            let p3 = ActiveTime.seconds(start: start, end: end, suspended: Int64(suspended), within: b, .max / 2)
            #expect(p1 + p2 + p3 == whole)
            #expect(whole == max(0, Int64(wall) - min(Int64(suspended), Int64(wall))))
            #expect(p1 >= 0 && p2 >= 0 && p3 >= 0)
        }
    }
}
