/// One usage component of a Waldur offering, mapped to a SLURM TRES (the key of the site-agent's
/// `backend_components`: `cpu`, `mem`, `gres/gpu`, …) and converted with `unit_factor`.
///
/// Waldur amount = (TRES count × minutes, memory in MiB) ÷ unit_factor. reckon keeps native
/// amounts in TRES-seconds, so the conversion is `native ÷ (60 × unit_factor)`, exact.
public struct Component: Hashable, Sendable {
    /// The TRES name as sacct prints it, and the Waldur component `type`.
    public let name: String
    public let unitFactor: ExactDecimal
    public let measuredUnit: String?
    public let accountingType: String?
    public let label: String?

    public init(name: String, unitFactor: ExactDecimal, measuredUnit: String? = nil,
                accountingType: String? = nil, label: String? = nil) {
        self.name = name
        self.unitFactor = unitFactor
        self.measuredUnit = measuredUnit
        self.accountingType = accountingType
        self.label = label
    }

    /// Converts native TRES-seconds to a Waldur amount, rounded half-even to hundredths.
    /// Returns nil only if the numbers exceed 128-bit arithmetic (an amount no real cluster has).
    public func amount(fromNativeSeconds native: Int128) -> WaldurAmount? {
        // amount = native / (60 * digits / 10^scale) = native * 10^scale / (60 * digits)
        guard !unitFactor.isZero else { return nil }
        var num = native
        var ok = true
        func mul(_ k: Int128) {
            let (m, o) = num.multipliedReportingOverflow(by: k)
            if o { ok = false } else { num = m }
        }
        mul(100)
        for _ in 0..<unitFactor.scale { mul(10) }
        let (den, o) = unitFactor.digits.multipliedReportingOverflow(by: 60)
        guard ok, !o else { return nil }
        return WaldurAmount(hundredths: roundHalfEven(num, den))
    }
}
