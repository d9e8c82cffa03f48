import ReckonCore

/// The configuration fingerprint every submission intent records (`configFingerprint`): the
/// projection settings (time zone, TRES source) and the offering's unit factors, e.g.
/// `v1;tz=UTC;tres=alloc;components=cpu:1,mem:1024,gres/gpu:1`. The audit shows it parsed and
/// says whether a decision used the configuration in force now.
public enum AuditFingerprint {
    /// What `OfferingReconciler` records for `components` under `settings` (same format).
    public static func current(settings: ProjectionSettings, components: [Component]) -> String {
        let comps = components.map { "\($0.name):\($0.unitFactor)" }.joined(separator: ",")
        return "\(settings.fingerprint);components=\(comps)"
    }

    /// The parts of a fingerprint, for display.
    public struct Parts: Sendable, Equatable {
        public var version: String?
        public var timeZone: String?
        public var tresSource: String?
        /// Component → unit factor, in recorded order.
        public var unitFactors: [(component: String, factor: String)]

        public static func == (a: Parts, b: Parts) -> Bool {
            a.version == b.version && a.timeZone == b.timeZone && a.tresSource == b.tresSource
                && a.unitFactors.elementsEqual(b.unitFactors) { $0.component == $1.component && $0.factor == $1.factor }
        }
    }

    /// Splits a fingerprint into its parts; unknown parts are ignored, missing ones are nil.
    /// Component names may contain `:` (`gres/gpu:a100`), so a factor follows the last one.
    public static func parse(_ text: String) -> Parts {
        var p = Parts(version: nil, timeZone: nil, tresSource: nil, unitFactors: [])
        for field in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = field.firstIndex(of: "=") else { p.version = p.version ?? String(field); continue }
            let key = field[..<eq], value = field[field.index(after: eq)...]
            switch key {
            case "tz": p.timeZone = String(value)
            case "tres": p.tresSource = String(value)
            case "components":
                for c in value.split(separator: ",") {
                    guard let colon = c.lastIndex(of: ":") else { continue }
                    p.unitFactors.append((String(c[..<colon]), String(c[c.index(after: colon)...])))
                }
            default: break
            }
        }
        return p
    }
}
