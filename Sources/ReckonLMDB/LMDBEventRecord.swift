import ReckonCore

/// How events lie in the `events` database (store format 2).
///
/// A record's key is the sequence number of its *last* event (8 bytes big-endian). Its value is
/// either one event, as its bytes — every record of a format-1 store, and a lone event since —
/// or a block: the marker byte 0 (no event starts with it: the first byte is the event's kind,
/// from 1), a varint count, then that many events, each a varint length and its bytes.
///
/// Keyed by the last event, the log's count is still its last key + 1, as in format 1: a
/// format-1 reckon that had the store open before it was raised to format 2 appends its next
/// event under the right number (and fails loudly on reading an event inside a block) instead
/// of writing a duplicate number into the log. An event is found with one `MDB_SET_RANGE`: the
/// first record whose last event is at or after it.
///
/// A write transaction groups its appends into blocks of up to ``blockBytes``, so an import of
/// N runs puts about N/5 records into the log instead of N: the per-put cost of LMDB's B-tree
/// (a descent, the dirty-page search on every level, the node bookkeeping) was the largest
/// part of recording an event. Blocks stay well under half a page, so they never spill into
/// overflow pages and a page filled by appends wastes at most a block's worth of space.
enum LMDBEventRecord {
    /// The first byte of a block.
    static let blockMarker: UInt8 = 0
    /// The most bytes of events (with their length prefixes) grouped into one block.
    static let blockBytes = 480
    /// The most events in one block (the count is then a one-byte varint).
    static let maxBlockEvents = 64

    /// Whether `event` can be stored as a lone record: a block is needed when its first byte
    /// would read as the marker (or it has none).
    static func canStandAlone(_ event: UnsafeRawBufferPointer) -> Bool {
        !event.isEmpty && event[0] != blockMarker
    }

    /// A block holding only `event` (for an event that cannot stand alone and is too large to
    /// wait in a block being filled).
    static func blockOfOne(_ event: UnsafeRawBufferPointer) -> [UInt8] {
        var record: [UInt8] = [blockMarker, 1]
        var n = event.count
        while n >= 0x80 { record.append(UInt8(truncatingIfNeeded: n) | 0x80); n >>= 7 }
        record.append(UInt8(n))
        record.append(contentsOf: event)
        return record
    }

    /// The number of events a record holds (each takes at least its length byte, which bounds it).
    static func count(_ record: UnsafeRawBufferPointer, key: Sequence64, path: String) throws(EventStoreError) -> UInt64 {
        guard record.first == blockMarker else { return 1 }
        var r = ByteReader(record)
        _ = r.next()   // the marker
        guard let n = r.varintOrNil(), n >= 1, n <= UInt64(record.count - r.offset), n <= key &+ 1 else { throw damaged(key, path: path) }
        return n
    }

    /// The sequence number of a record's first event, from its key (its last) and its count.
    static func first(_ record: UnsafeRawBufferPointer, key: Sequence64, path: String) throws(EventStoreError) -> Sequence64 {
        key - (try count(record, key: key, path: path) - 1)
    }

    /// Calls `body` with each event of `record` from index `first` (its sequence number is the
    /// record's first plus the index) until `body` returns false; returns false then, true
    /// after the last.
    static func forEachEvent(in record: UnsafeRawBufferPointer, key: Sequence64, from first: UInt64, path: String,
                             _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        guard record.first == blockMarker else {
            return first > 0 ? true : try body(0, record)
        }
        var r = ByteReader(record)
        _ = r.next()   // the marker
        guard let n = r.varintOrNil(), n >= 1, n <= UInt64(record.count - r.offset) else { throw damaged(key, path: path) }
        var i: UInt64 = 0
        while i < n {
            guard let event = r.stringBytes() else { throw damaged(key, path: path) }
            if i >= first, try !body(i, event) { return false }
            i += 1
        }
        guard r.isAtEnd else { throw damaged(key, path: path) }
        return true
    }

    /// The event at `index` in `record`, or nil when the record holds fewer.
    static func event(in record: UnsafeRawBufferPointer, key: Sequence64, at index: UInt64, path: String) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        do {
            _ = try forEachEvent(in: record, key: key, from: index, path: path) { _, event in
                found = event
                return false
            }
        } catch let error as EventStoreError {
            throw error
        } catch {
            throw damaged(key, path: path)
        }
        return found
    }

    static func damaged(_ key: Sequence64, path: String) -> EventStoreError {
        .corrupt("\(path): the block of events ending at \(key) is damaged (its count or a length does not fit it)")
    }
}
