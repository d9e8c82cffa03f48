/// Appends primitive values to a byte buffer: the building block of the event codec and of
/// store keys. Varints are LEB128; signed values are zigzag-encoded; fixed-width integers are
/// big-endian so that byte order equals numeric order in keys.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func u32BE(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func u64BE(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func i128BE(_ v: Int128) {
        let u = UInt128(bitPattern: v)
        u64BE(UInt64(truncatingIfNeeded: u >> 64))
        u64BE(UInt64(truncatingIfNeeded: u))
    }

    public mutating func varint(_ v: UInt64) {
        if v < 0x80 { bytes.append(UInt8(v)); return }
        var v = v
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    public mutating func zigzag(_ v: Int64) {
        varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            varint(UInt64(buf.count))
            bytes.append(contentsOf: buf)
        }
    }

    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    public mutating func raw(_ b: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: b) }
}

/// Writes bytes into memory the caller provides, without the per-append checks of a growing
/// array: the sacct transcoder writes every event of an import through one (the profile showed
/// `ByteWriter`'s appends at ~10% of an ingest). A write that does not fit is dropped and sets
/// ``overflowed``; the caller then discards what was written.
public struct ByteCursor {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var _count = 0
    @usableFromInline var _overflowed = false
    /// Bytes written so far.
    public var count: Int { _count }
    /// Whether a write did not fit (and was dropped).
    public var overflowed: Bool { _overflowed }

    /// Over `buffer`; nil for a buffer without memory.
    public init?(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        guard let b = buffer.baseAddress else { return nil }
        base = b
        capacity = buffer.count
    }

    /// The bytes written so far (valid while the caller's memory is).
    public var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: _count) }

    @inlinable @inline(__always)
    public mutating func u8(_ v: UInt8) {
        guard _count < capacity else { _overflowed = true; return }
        base[_count] = v
        _count += 1
    }

    @inlinable
    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { u8(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        u8(UInt8(v))
    }

    @inlinable
    public mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    @inlinable
    public mutating func u64BE(_ v: UInt64) {
        guard _count + 8 <= capacity else { _overflowed = true; return }
        UnsafeMutableRawPointer(base + _count).storeBytes(of: v.bigEndian, as: UInt64.self)
        _count += 8
    }

    /// Writes `b`'s bytes (which must not overlap this cursor's memory); see ``copy(_:_:to:)``.
    @inlinable
    public mutating func raw(_ b: UnsafeBufferPointer<UInt8>) {
        guard let p = b.baseAddress else { return }
        let n = b.count
        guard _count + n <= capacity else { _overflowed = true; return }
        Self.copy(p, n, to: base + _count)
        _count += n
    }

    /// Copies `count` bytes from `from` to `to` (not overlapping). Most copies of the sacct
    /// transcoder and the usage table's text are a short name (an account, a user, a job id):
    /// up to 16 bytes are copied inline, with two loads and two stores, not by a call to
    /// `memmove` (~1.6 million calls in an import of 200,000 lines).
    @inlinable @inline(__always)
    public static func copy(_ from: UnsafePointer<UInt8>, _ count: Int, to: UnsafeMutablePointer<UInt8>) {
        let t = UnsafeMutableRawPointer(to), f = UnsafeRawPointer(from)
        if count >= 8 && count <= 16 {   // the first and the last eight bytes, overlapping when count < 16
            let head = f.loadUnaligned(as: UInt64.self), tail = f.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            t.storeBytes(of: head, as: UInt64.self)
            t.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 && count < 8 {
            let head = f.loadUnaligned(as: UInt32.self), tail = f.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            t.storeBytes(of: head, as: UInt32.self)
            t.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        } else if count < 4 {
            for i in 0..<count { to[i] = from[i] }
        } else {
            to.update(from: from, count: count)
        }
    }

    /// Forgets what was written after the first `n` bytes.
    public mutating func truncate(to n: Int) { if n >= 0 && n < _count { _count = n } }

    /// Overwrites one byte already written.
    public mutating func patch(at index: Int, _ v: UInt8) { if index >= 0 && index < _count { base[index] = v } }
}

/// Why bytes could not be decoded: truncated or malformed data, or data written by a newer reckon.
public struct ByteDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Reads what ``ByteWriter`` wrote, with bounds checks on every read.
public struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    public internal(set) var offset: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    @inline(__always)
    public mutating func u8() throws(ByteDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw ByteDecodingError("truncated at byte \(offset)") }
        let b = bytes[offset]
        offset += 1
        return b
    }

    public mutating func u64BE() throws(ByteDecodingError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw ByteDecodingError("truncated u64 at byte \(offset)") }
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    public mutating func i128BE() throws(ByteDecodingError) -> Int128 {
        let hi = try u64BE(), lo = try u64BE()
        return Int128(bitPattern: (UInt128(hi) << 64) | UInt128(lo))
    }

    public mutating func varint() throws(ByteDecodingError) -> UInt64 {
        // One bounds check per byte and the offset stored once: this runs ~20 times per event.
        var i = offset
        let n = bytes.count
        if i < n {
            let b = bytes[i]
            if b < 0x80 { offset = i + 1; return UInt64(b) }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < n else { offset = i; throw ByteDecodingError("truncated at byte \(i)") }
            let b = bytes[i]
            i += 1
            guard shift < 64 else { offset = i; throw ByteDecodingError("varint too long at byte \(i)") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { offset = i; return result }
            shift += 7
        }
    }

    public mutating func zigzag() throws(ByteDecodingError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    public mutating func string() throws(ByteDecodingError) -> String {
        let n = try varint()
        guard n <= UInt64(bytes.count - offset) else { throw ByteDecodingError("truncated string at byte \(offset)") }
        let len = Int(n)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + len]), as: UTF8.self)
        offset += len
        return s
    }
}

/// Non-throwing reads for the byte-level fast paths (``UsageAccumulator``): nil or false where
/// the throwing reads would throw, so a fast path can defer to the general one.
extension ByteReader {
    /// The next byte without consuming it.
    @inline(__always) func peekU8() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }
    @inline(__always) mutating func skip(_ n: Int) { offset += n }
    /// The next byte, or nil at the end.
    @inline(__always) public mutating func next() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    /// ``varint()`` without throwing: nil where it would throw.
    @inline(__always) public mutating func varintOrNil() -> UInt64? {
        let n = bytes.count
        var i = offset
        guard i < n else { return nil }
        let first = bytes[i]
        if first < 0x80 { offset = i + 1; return UInt64(first) }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            let b = bytes[i]
            i += 1
            guard shift < 64 else { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { offset = i; return result }
            shift += 7
        }
        return nil
    }
    @inline(__always) mutating func zigzagOrNil() -> Int64? {
        guard let u = varintOrNil() else { return nil }
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
    @inline(__always) mutating func skipVarint() -> Bool { varintOrNil() != nil }
    /// The bytes of a length-prefixed string (or any varint-length-prefixed bytes), without
    /// copying them.
    public mutating func stringBytes() -> UnsafeRawBufferPointer? {
        guard let n = varintOrNil(), n <= UInt64(bytes.count - offset) else { return nil }
        let s = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(n)])
        offset += Int(n)
        return s
    }
    mutating func skipString() -> Bool { stringBytes() != nil }
    /// A TRES list whose names are all one-byte codes, each at most once: its bytes (count
    /// included), or nil for any other list.
    mutating func wellKnownTRESList() -> UnsafeRawBufferPointer? {
        let begin = offset
        guard let n = varintOrNil(), n <= 32 else { return nil }
        var seen: UInt32 = 0
        for _ in 0..<n {
            guard let code = next(), code >= 1, Int(code) <= EventCodec.wellKnownTRES.count, seen & (1 << code) == 0,
                  skipVarint() else { return nil }
            seen |= 1 << code
        }
        return UnsafeRawBufferPointer(rebasing: bytes[begin..<offset])
    }
}
