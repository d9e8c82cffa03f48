/// A configuration problem, naming the key path (`offerings[0].backend_components.cpu.unit_factor`)
/// and the bad value, and where in the file it is. Never quotes a token: values of secret keys
/// are shown as `<redacted>`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let message: String
    public let line: Int?

    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }

    public var description: String {
        let loc = line.map { " (line \($0))" } ?? ""
        return path.isEmpty ? "\(message)\(loc)" : "\(path): \(message)\(loc)"
    }
}
