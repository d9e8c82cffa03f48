/// The unit of desired usage: native TRES-seconds of one user, in one SLURM account (a Waldur
/// resource), in one billing month, for one TRES. Resource totals are sums of these (exact, in
/// native units) and are rounded only when converted to Waldur units.
public struct UsageKey: Hashable, Sendable, Comparable {
    public var month: BillingMonth
    public var account: String
    public var user: String
    public var tres: String

    public init(month: BillingMonth, account: String, user: String, tres: String) {
        self.month = month
        self.account = account
        self.user = user
        self.tres = tres
    }

    /// `[month ordinal u32 BE][account]0[user]0[tres]`: sorts by month first, so one month is a
    /// prefix scan of the usage table.
    public var bytes: [UInt8] {
        var a = account, u = user, t = tres
        return a.withUTF8 { ab in
            u.withUTF8 { ub in
                t.withUTF8 { tb in
                    let n = 4 + ab.count + 1 + ub.count + 1 + tb.count
                    return [UInt8](unsafeUninitializedCapacity: n) { out, count in
                        let m = UInt32(truncatingIfNeeded: month.ordinal)
                        out[0] = UInt8(m >> 24); out[1] = UInt8(truncatingIfNeeded: m >> 16)
                        out[2] = UInt8(truncatingIfNeeded: m >> 8); out[3] = UInt8(truncatingIfNeeded: m)
                        var i = 4
                        for b in ab { out[i] = b; i += 1 }
                        out[i] = 0; i += 1
                        for b in ub { out[i] = b; i += 1 }
                        out[i] = 0; i += 1
                        for b in tb { out[i] = b; i += 1 }
                        count = n
                    }
                }
            }
        }
    }

    public static func monthPrefix(_ m: BillingMonth) -> [UInt8] {
        var w = ByteWriter(capacity: 4); w.u32BE(UInt32(m.ordinal)); return w.bytes
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= 6 else { return nil }
        let ord = bytes[0..<4].reduce(0) { ($0 << 8) | Int($1) }
        guard let m = BillingMonth(ordinal: ord) else { return nil }
        let parts = bytes[4...].split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        self.init(month: m, account: String(decoding: parts[0], as: UTF8.self),
                  user: String(decoding: parts[1], as: UTF8.self), tres: String(decoding: parts[2], as: UTF8.self))
    }

    public static func < (a: UsageKey, b: UsageKey) -> Bool {
        (a.month, a.account, a.user, a.tres) < (b.month, b.account, b.user, b.tres)
    }
}
