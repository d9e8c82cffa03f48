import ReckonCore

/// The block a write transaction is filling: its appends since the last put into the log,
/// written as one record (``LMDBEventRecord``) when the next would not fit, before a read of
/// the log, and before the commit.
final class LMDBEventBlockBuilder {
    /// The sequence number of the first pending event.
    private(set) var first: Sequence64 = 0
    /// Pending events.
    private(set) var count = 0
    /// Marker, count, then the events with their lengths; room for ``LMDBEventRecord/blockBytes``.
    private let buffer: UnsafeMutablePointer<UInt8>
    private var used = 2
    /// Where the last pending event's bytes begin in `buffer`.
    private var lastStart = 2

    init() {
        buffer = .allocate(capacity: 2 + LMDBEventRecord.blockBytes)
        buffer[0] = LMDBEventRecord.blockMarker
    }

    deinit { buffer.deallocate() }

    private static func varintSize(_ n: Int) -> Int {
        var size = 1, v = n >> 7
        while v > 0 { size += 1; v >>= 7 }
        return size
    }

    /// Whether an event of `n` bytes fits beside the pending ones.
    func fits(_ n: Int) -> Bool {
        count < LMDBEventRecord.maxBlockEvents && used + Self.varintSize(n) + n <= 2 + LMDBEventRecord.blockBytes
    }

    /// Adds the event at `sequence` (the next after the pending ones); the caller checked ``fits(_:)``.
    func add(_ event: UnsafeRawBufferPointer, at sequence: Sequence64) {
        if count == 0 { first = sequence }
        var n = event.count
        while n >= 0x80 { buffer[used] = UInt8(truncatingIfNeeded: n) | 0x80; used += 1; n >>= 7 }
        buffer[used] = UInt8(n); used += 1
        lastStart = used
        if let base = event.baseAddress { (buffer + used).update(from: base.assumingMemoryBound(to: UInt8.self), count: event.count) }
        used += event.count
        count += 1
    }

    /// The event at `sequence`, when it is pending.
    func event(at sequence: Sequence64) -> UnsafeRawBufferPointer? {
        guard count > 0, sequence >= first, sequence - first < UInt64(count) else { return nil }
        var r = ByteReader(UnsafeRawBufferPointer(start: buffer + 2, count: used - 2))
        var i: UInt64 = 0
        while let event = r.stringBytes() {
            if first + i == sequence { return event }
            i += 1
        }
        return nil
    }

    /// The record of the pending events and its key, the last one's sequence number — the lone
    /// event's bytes when it can stand alone, else a block; nil when none are pending. The bytes
    /// are valid until the builder changes. (A value, not a call of the caller's closure: the
    /// writer puts a record every ~5 events, and a closure over the transaction cost a count of
    /// a reference to it up and down each time.)
    func pendingRecord() -> (key: Sequence64, bytes: UnsafeRawBufferPointer)? {
        guard count > 0 else { return nil }
        if count == 1 {
            let lone = UnsafeRawBufferPointer(start: buffer + lastStart, count: used - lastStart)
            if LMDBEventRecord.canStandAlone(lone) { return (first, lone) }   // first == last
        }
        buffer[1] = UInt8(count)   // at most 64: a one-byte varint
        return (first + UInt64(count - 1), UnsafeRawBufferPointer(start: buffer, count: used))
    }

    /// Forgets the pending events (once their record is put).
    func clear() {
        count = 0
        used = 2
        lastStart = 2
    }
}
