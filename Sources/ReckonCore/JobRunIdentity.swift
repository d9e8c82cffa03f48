/// What makes one *run* of a job unique, so that re-observing it is recognised and a requeued
/// run (same JobIDRaw, new DBIndex and Submit) is a different run.
///
/// Slurm's `DBIndex` is the unique row of slurmdbd's job table and is used where sacct gives
/// it; otherwise (cluster, JobIDRaw, Submit), and, for dumps without JobIDRaw, (cluster, JobID,
/// Submit). Submit is reset on requeue, so it separates runs.
public enum JobRunIdentity: Hashable, Sendable, CustomStringConvertible {
    case dbIndex(cluster: String, index: UInt64)
    case jobIDRaw(cluster: String, id: UInt64, submit: EpochSeconds)
    case jobID(cluster: String, id: String, submit: EpochSeconds)

    public var cluster: String {
        switch self {
        case .dbIndex(let c, _), .jobIDRaw(let c, _, _), .jobID(let c, _, _): return c
        }
    }

    public var description: String {
        switch self {
        case .dbIndex(let c, let i): return "\(c)/db:\(i)"
        case .jobIDRaw(let c, let id, let s): return "\(c)/raw:\(id)@\(s)"
        case .jobID(let c, let id, let s): return "\(c)/id:\(id)@\(s)"
        }
    }

    /// Compact, order-preserving bytes used as the key of the run index.
    public var keyBytes: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .dbIndex(let c, let i):
            w.u8(1); w.string(c); w.u64BE(i)
        case .jobIDRaw(let c, let id, let s):
            w.u8(2); w.string(c); w.u64BE(id); w.u64BE(UInt64(bitPattern: s))
        case .jobID(let c, let id, let s):
            w.u8(3); w.string(c); w.string(id); w.u64BE(UInt64(bitPattern: s))
        }
        return w.bytes
    }
}
