import CLMDB
import ReckonCore

/// How bytes cross into and out of LMDB: `MDB_val`s over Swift arrays (valid only inside the
/// closure), copies out of the map, and event keys — a sequence number as 8 big-endian bytes,
/// so LMDB's bytewise key order is numeric order and `MDB_APPEND` applies.
enum LMDBValue {
    /// Calls `body` with an `MDB_val` over `bytes`.
    static func with<R>(_ bytes: [UInt8], _ body: (inout MDB_val) -> R) -> R {
        bytes.withUnsafeBytes { with($0, body) }
    }

    /// Calls `body` with an `MDB_val` over bytes lent for the call.
    static func with<R>(_ buffer: UnsafeRawBufferPointer, _ body: (inout MDB_val) -> R) -> R {
        var value = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
        return body(&value)
    }

    /// Calls `body` with an `MDB_val` over the event key of `sequence`.
    static func with<R>(sequence: Sequence64, _ body: (inout MDB_val) -> R) -> R {
        withUnsafeBytes(of: sequence.bigEndian) { buffer in
            var value = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            return body(&value)
        }
    }

    /// The bytes `value` points at, for use while the transaction lasts.
    static func buffer(_ value: MDB_val) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    /// A copy of the bytes `value` points at.
    static func bytes(_ value: MDB_val) -> [UInt8] {
        Array(buffer(value))
    }

    /// The sequence number an event key holds.
    static func sequence(_ key: MDB_val, path: String) throws(EventStoreError) -> Sequence64 {
        let b = buffer(key)
        guard b.count == 8 else { throw .corrupt("\(path): an event key is \(b.count) bytes, expected 8") }
        return b.reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
