#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ReckonCore

/// How an ``LMDBEventStore`` opens its environment: the memory map's starting size, how far
/// and in what steps it may grow, and whether the store is only read.
///
/// LMDB's map size is also the largest the database can become, and it must be chosen before
/// the environment is used. The file is sparse and grows with the data, so a large map costs
/// address space, not disk; the store starts at ``initialMapSize`` and, when a write finds the
/// map full, grows it by ``growthStep`` up to ``maxMapSize`` and runs the write again.
/// A store opened on a directory this process already has open shares that environment and
/// its map options.
public struct LMDBStoreOptions: Sendable, Equatable {
    /// The map size used when the environment's own (persisted) size is smaller.
    public var initialMapSize: Int
    /// The size beyond which the store refuses to grow and reports ``EventStoreError/mapFull(path:mapSize:)``.
    public var maxMapSize: Int
    /// How much the map grows each time a write finds it full.
    public var growthStep: Int
    /// Opens the environment read-only (`MDB_RDONLY`): for readers such as `reckon usage`
    /// while a daemon writes. The store must exist; ``LMDBEventStore/write(_:)`` throws.
    public var readOnly: Bool

    public static let gibibyte = 1 << 30
    /// 1 TiB on 64-bit platforms, 1 GiB elsewhere.
    public static let defaultMaxMapSize = Int.bitWidth == 64 ? 1 << 40 : 1 << 30

    public init(initialMapSize: Int = LMDBStoreOptions.gibibyte,
                maxMapSize: Int = LMDBStoreOptions.defaultMaxMapSize,
                growthStep: Int = LMDBStoreOptions.gibibyte,
                readOnly: Bool = false) {
        self.initialMapSize = initialMapSize
        self.maxMapSize = maxMapSize
        self.growthStep = growthStep
        self.readOnly = readOnly
    }

    /// The options with sizes rounded up to whole OS pages (LMDB wants page multiples), or an
    /// error naming the offending value.
    func validated(path: String) throws(EventStoreError) -> LMDBStoreOptions {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func rounded(_ name: String, _ v: Int) throws(EventStoreError) -> Int {
            guard v > 0 else {
                throw .storage(operation: "open \(path)", message: "\(name) must be positive, got \(v)")
            }
            let (r, overflow) = v.addingReportingOverflow(page - 1)
            guard !overflow else {
                throw .storage(operation: "open \(path)", message: "\(name) \(v) is too large")
            }
            return r / page * page
        }
        var o = self
        o.initialMapSize = try rounded("initialMapSize", initialMapSize)
        o.maxMapSize = try rounded("maxMapSize", maxMapSize)
        o.growthStep = try rounded("growthStep", growthStep)
        guard o.maxMapSize >= o.initialMapSize else {
            throw .storage(operation: "open \(path)",
                           message: "maxMapSize \(maxMapSize) is smaller than initialMapSize \(initialMapSize)")
        }
        return o
    }
}
