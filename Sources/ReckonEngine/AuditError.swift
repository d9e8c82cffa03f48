/// Why `reckon audit` cannot answer, in words an operator can act on.
public enum AuditError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `--component` names a component the offering does not configure.
    case unknownComponent(String, known: [String])
    /// The month lies outside the calendar's supported years.
    case monthOutOfRange(String)
    /// `--resource` is empty.
    case emptyResource

    public var description: String {
        switch self {
        case .unknownComponent(let c, let known):
            return "component \"\(c)\" is not configured for this offering (configured: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        case .monthOutOfRange(let m):
            return "month \(m) is outside 1970-01 … 2199-12"
        case .emptyResource:
            return "give the resource as its SLURM account (backend_id) or its Waldur UUID"
        }
    }
}
