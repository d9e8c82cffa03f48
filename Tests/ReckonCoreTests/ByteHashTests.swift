@testable import ReckonCore
import Testing

/// `ByteHash` takes a string eight bytes at a time as little-endian words, then its last 1–7
/// bytes as one zero-padded word, then its length: checked against that definition written out
/// a byte at a time, so that a faster way of reading the words (tried in the thirteenth round of
/// docs/performance.md) cannot change a hash unnoticed.
@Suite struct ByteHashTests {
    /// The definition, a byte at a time after the whole words.
    static func reference(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        var h = seed
        var i = 0
        while i + 8 <= bytes.count {
            var word: UInt64 = 0
            for k in 0..<8 { word |= UInt64(bytes[i + k]) << UInt64(8 * k) }
            h = ByteHash.mix(h, word)
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = ByteHash.mix(h, tail)
        }
        return ByteHash.mix(h, UInt64(bytes.count))
    }

    /// Every length from 0 to 40, at every offset in a larger buffer (the words are read
    /// unaligned), with two seeds: the same hash as the definition.
    @Test func everyLengthAndOffsetHashesAsDefined() {
        let pool: [UInt8] = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var checked = 0
        for seed: UInt64 in [0x243F_6A88_85A3_08D3, 7] {
            for length in 0...40 {
                for offset in 0...(pool.count - length) {
                    let slice = Array(pool[offset..<offset + length])
                    let h = pool.withUnsafeBytes { ByteHash.hash(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + length]), seed: seed) }
                    #expect(h == Self.reference(slice, seed: seed), "length \(length) offset \(offset)")
                    checked += 1
                }
            }
        }
        #expect(checked > 2_000)
    }

    /// Strings that differ in one byte, or by a trailing zero, hash differently.
    @Test func nearStringsDiffer() {
        func h(_ s: [UInt8]) -> UInt64 { s.withUnsafeBytes { ByteHash.hash($0) } }
        #expect(h([97, 98]) != h([97, 98, 0]))
        #expect(h(Array("cpu=8,mem=4000M".utf8)) != h(Array("cpu=8,mem=4001M".utf8)))
        #expect(h([]) != h([0]))
    }
}
