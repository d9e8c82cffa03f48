/// Why the simulator could not start or load its data.
public enum SimulatorError: Error, CustomStringConvertible, Sendable {
    /// The seed is malformed or inconsistent; the message names the field and value.
    case invalidSeed(String)
    /// The state file cannot be read, decoded or written.
    case stateFile(String)
    /// A command-line option has a bad value.
    case invalidOption(String)
    /// The server could not bind or start.
    case startup(String)

    public var description: String {
        switch self {
        case .invalidSeed(let text): "invalid simulator seed: \(text)"
        case .stateFile(let text): "simulator state file: \(text)"
        case .invalidOption(let text): "invalid option: \(text)"
        case .startup(let text): "simulator failed to start: \(text)"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key \(path(context)).\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
