import ReckonCore

/// The encodings of recently seen TRES texts. A cluster prints few distinct TRES lists (the
/// generated million-row month has ~600), so nearly every list is a copy of bytes found here
/// instead of a parse. Exact: a slot is chosen by a hash of the text, but it is used only when
/// its text is byte-for-byte the same.
struct TRESEncodingCache {
    private static let slots = 1_024
    /// The longest text, and the longest encoding, a slot keeps.
    private static let maxText = 256
    /// Every slot's text and encoding in two flat buffers, `maxText` bytes a slot, and their
    /// lengths (0: an empty slot), so that a hit copies bytes without taking a reference to an
    /// inner array (an atomic count up and down, per list, per line).
    /// (Left uninitialised: a slot's bytes are read only after they were written, and pages
    /// never written are never taken from the system.)
    private var texts = [UInt8](unsafeUninitializedCapacity: slots * maxText) { _, n in n = slots * maxText }
    private var encodings = [UInt8](unsafeUninitializedCapacity: slots * maxText) { _, n in n = slots * maxText }
    private var textLengths = [Int](repeating: 0, count: slots)
    private var encodingLengths = [Int](repeating: 0, count: slots)

    @inline(__always)
    private static func slot(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        let h = ByteHash.hash(UnsafeRawBufferPointer(text))
        return Int(truncatingIfNeeded: (h ^ (h >> 32)) & UInt64(slots - 1))
    }

    /// Writes the encoding of `text` (as ``EventCodec/encodeTRES(ascii:maxNameBytes:into:)``),
    /// from the cache when it holds the text; false when the text cannot be encoded.
    mutating func encode(_ text: UnsafeBufferPointer<UInt8>, maxNameBytes: Int, into w: inout ByteCursor) -> Bool {
        guard !text.isEmpty, text.count <= Self.maxText else {
            return EventCodec.encodeTRES(ascii: text, maxNameBytes: maxNameBytes, into: &w)
        }
        let i = Self.slot(text)
        let at = i * Self.maxText
        if textLengths[i] == text.count {
            let hit = texts.withUnsafeBufferPointer { EventCodec.memoryEqual(UnsafeBufferPointer(rebasing: $0[at..<at + text.count]), text) }
            if hit {
                let n = encodingLengths[i]
                encodings.withUnsafeBufferPointer { w.raw(UnsafeBufferPointer(rebasing: $0[at..<at + n])) }
                return true
            }
        }
        let from = w.count
        guard EventCodec.encodeTRES(ascii: text, maxNameBytes: maxNameBytes, into: &w) else { return false }
        guard !w.overflowed else { return true }   // the caller sees the overflow
        let encoding = UnsafeBufferPointer(rebasing: w.written[from...])
        guard encoding.count <= Self.maxText else { return true }   // written, not kept
        texts.withUnsafeMutableBufferPointer { t in
            _ = UnsafeMutableBufferPointer(rebasing: t[at..<at + text.count]).initialize(from: text)
        }
        encodings.withUnsafeMutableBufferPointer { e in
            _ = UnsafeMutableBufferPointer(rebasing: e[at..<at + encoding.count]).initialize(from: encoding)
        }
        textLengths[i] = text.count
        encodingLengths[i] = encoding.count
        return true
    }
}
