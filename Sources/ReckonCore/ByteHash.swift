/// A fast, non-cryptographic hash of short byte strings for reckon's own open-addressed tables
/// (owners in ``UsageAccumulator``, the sacct parser's TRES cache), which compare the bytes
/// exactly on every hit: the hash only chooses a slot, so its quality shows as speed, never
/// as a result.
///
/// It takes eight bytes per step (a byte-at-a-time FNV-1a, used before, spent ~4 instructions a
/// byte on names and TRES lists of 20–60 bytes, for every run imported) and mixes each word with
/// a multiply and a shift; the tail is read as one zero-padded word, and the length goes in at
/// the end, so "ab" and "ab\0" differ.
public enum ByteHash {
    static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let x = (h ^ word) &* multiplier
        return x ^ (x >> 29)
    }

    /// The hash of `bytes`, continuing from `seed` (chain calls to hash several strings).
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0x243F_6A88_85A3_08D3) -> UInt64 {
        var h = seed
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return mix(h, 0) }
        var i = 0
        while i + 8 <= n {
            h = mix(h, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = mix(h, tail)
        }
        return mix(h, UInt64(n))
    }
}
