import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error
/// (`{"timestamp","level","label","message",...metadata}`), for `--log-format json` and
/// journald/Loki pipelines. Metadata values are rendered as strings.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var pairs: [(String, String)] = [
            ("timestamp", JSONText.string(Self.timestamp())), ("level", JSONText.string(level.rawValue)),
            ("label", JSONText.string(label)), ("message", JSONText.string(message.description)),
        ]
        let merged = metadata.merging(extra ?? [:]) { _, new in new }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) where !["timestamp", "level", "label", "message"].contains(k) {
            pairs.append((k, JSONText.string("\(v)")))
        }
        try? FileHandle.standardError.write(contentsOf: Data((JSONText.object(pairs) + "\n").utf8))
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
