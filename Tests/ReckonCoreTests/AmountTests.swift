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

    /// Half-even rounding of a quotient, by hand and against the nearest-integer definition
    /// (compare `2·num` with the midpoint `(2q + 1)·den` of the floor `q` and `q + 1`) over values
    /// within 64 bits (the 64-bit division) and beyond (the 128-bit one).
    @Test func roundsQuotientsHalfToEven() {
        let byHand: [(Int128, Int128, Int128)] = [(5, 2, 2), (7, 2, 4), (-5, 2, -2), (-7, 2, -4), (1, 3, 0), (2, 3, 1),
                                                 (-1, 3, 0), (-2, 3, -1), (0, 7, 0), (9, 1, 9), (-9, 1, -9)]
        for (n, d, q) in byHand { #expect(roundHalfEven(n, d) == q, "\(n)/\(d)") }
        func reference(_ n: Int128, _ d: Int128) -> Int128 {
            var q = n / d
            if n % d != 0 && n < 0 { q -= 1 }    // floor
            let twice = 2 * n, mid = (2 * q + 1) * d
            return twice > mid || (twice == mid && q % 2 != 0) ? q + 1 : q
        }
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        var cases: [(Int128, Int128)] = [(Int128(Int64.min), 1), (Int128(Int64.min), 2), (Int128(Int64.min), 3), (Int128(Int64.max), 2),
                                         (Int128(Int64.max), Int128(Int64.max)), (Int128(Int64.min) + 1, Int128(Int64.max)),
                                         (Int128(Int64.max) + 1, 2), (Int128(Int64.min) - 1, 2)]
        for shift in 0..<64 {
            x = x &* 0x5851_F42D_4C95_7F2D &+ 1
            let n = Int128(Int64(bitPattern: x) >> (shift % 63))
            let d = Int128(max(1, (x >> 7) >> UInt64(shift)))
            cases.append((n, d)); cases.append((n, 2)); cases.append((n * 1_000_003, d)); cases.append((2 * (n / 2) + d, 2 * d))
        }
        for (n, d) in cases { #expect(roundHalfEven(n, d) == reference(n, d), "\(n)/\(d)") }
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

    /// The text form, written digit by digit (64-bit steps where the magnitude fits), against
    /// expectations by hand and against Swift's own integer printing for values up to the
    /// extremes of `Int128`, where the 128-bit steps are taken.
    @Test func textFormIsTwoDecimalsAtEveryMagnitude() {
        let byHand: [(Int128, String)] = [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (10, "0.10"), (100, "1.00"),
                                          (-120, "-1.20"), (12345, "123.45"), (1_000_000, "10000.00")]
        for (h, text) in byHand { #expect(WaldurAmount(hundredths: h).description == text) }
        func reference(_ h: Int128) -> String {
            let mag = h.magnitude
            let frac = Int(mag % 100)
            return (h < 0 ? "-" : "") + String(mag / 100) + "." + (frac < 10 ? "0" : "") + String(frac)
        }
        var samples: [Int128] = [.max, .min, .max - 1, .min + 1, Int128(UInt64.max), Int128(UInt64.max) + 1,
                                 -Int128(UInt64.max), -Int128(UInt64.max) - 1, Int128(UInt64.max) * 100 + 99]
        var x: UInt128 = 0x9E37_79B9_7F4A_7C15
        for shift in stride(from: 0, to: 127, by: 3) {   // every magnitude, both signs
            x = x &* 0x5851_F42D_4C95_7F2D &+ 1
            let v = Int128(truncatingIfNeeded: x >> UInt128(shift))
            samples.append(v); samples.append(v == .min ? v : -v)
        }
        for h in samples {
            #expect(WaldurAmount(hundredths: h).description == reference(h), "\(h)")
            var bytes: [UInt8] = [7]
            WaldurAmount(hundredths: h).appendText(to: &bytes)
            #expect(bytes == [7] + Array(reference(h).utf8))   // appended after what was there
            // Its length, and written backwards into exactly that many bytes between two guards.
            let text = Array(reference(h).utf8)
            #expect(WaldurAmount(hundredths: h).textCount == text.count, "\(h)")
            var room = [UInt8](repeating: 7, count: text.count + 2)
            room.withUnsafeMutableBufferPointer { WaldurAmount(hundredths: h).writeText(endingAt: $0.baseAddress! + text.count + 1) }
            #expect(room == [7] + text + [7], "\(h)")
        }
    }
}
