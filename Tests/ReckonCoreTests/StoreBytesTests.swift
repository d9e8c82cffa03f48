import ReckonCore
import Testing

/// The store's 16-byte amounts: big-endian two's complement, so that the bytes LMDB holds are
/// the same whichever way they were written. The reference here builds them one byte at a
/// time, independently of the word-at-a-time code under test.
@Suite struct StoreBytesTests {
    static func reference(_ v: Int128) -> [UInt8] {
        let u = UInt128(bitPattern: v)
        return (0..<16).map { UInt8(truncatingIfNeeded: u >> UInt128(8 * (15 - $0))) }
    }

    @Test func amountsAreSixteenBigEndianBytesBothWays() {
        var rng = SystemRandomNumberGenerator()
        var samples: [Int128] = [0, 1, -1, 255, 256, -256, Int128.max, Int128.min, Int128(Int64.max) + 1, -(Int128(1) << 64)]
        for _ in 0..<2_000 {
            samples.append(Int128(bitPattern: UInt128(rng.next() as UInt64) << 64 | UInt128(rng.next() as UInt64)))
        }
        var buffer: [UInt8] = [9, 9, 9]   // a wrong size is replaced
        for v in samples {
            let expected = Self.reference(v)
            #expect(StoreBytes.i128(v) == expected)
            StoreBytes.i128(v, into: &buffer)
            #expect(buffer == expected)
            #expect(StoreBytes.i128(expected) == v)
        }
        #expect(StoreBytes.i128([UInt8](repeating: 0, count: 15)) == nil)
        #expect(StoreBytes.i128([UInt8](repeating: 0, count: 17)) == nil)
        #expect(StoreBytes.i128([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]) == 256)
    }
}
