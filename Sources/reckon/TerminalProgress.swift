import Foundation
import Logging

/// A one-line progress bar on a terminal's standard error that log lines never corrupt: the
/// text log handler clears the bar before writing a line and redraws it after. On a
/// non-terminal nothing is drawn (plain log lines carry the progress instead).
final class TerminalProgress: @unchecked Sendable {
    static let shared = TerminalProgress()
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var line: String?
    private let lock = NSLock()

    func update(_ text: String) {
        guard isTerminal else { return }
        lock.lock(); defer { lock.unlock() }
        line = text
        try? FileHandle.standardError.write(contentsOf: Data(("\r\u{1B}[2K" + text).utf8))
    }

    func finish() {
        guard isTerminal else { return }
        lock.lock(); defer { lock.unlock() }
        if line != nil { try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[2K".utf8)) }
        line = nil
    }

    /// Writes a whole log line around the bar.
    func writeLogLine(_ s: String) {
        lock.lock(); defer { lock.unlock() }
        if isTerminal, line != nil { try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[2K".utf8)) }
        try? FileHandle.standardError.write(contentsOf: Data((s + "\n").utf8))
        if isTerminal, let l = line { try? FileHandle.standardError.write(contentsOf: Data(l.utf8)) }
    }

    static func bar(done: Int, total: Int, width: Int = 24) -> String {
        let filled = total > 0 ? width * done / total : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}

/// reckon's text log format: `timestamp level label: message key=value…`, written through
/// ``TerminalProgress`` so a progress bar and log lines share the terminal cleanly.
struct TextLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let merged = metadata.merging(extra ?? [:]) { _, n in n }
        let meta = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let f = ISO8601DateFormatter()
        TerminalProgress.shared.writeLogLine("\(f.string(from: Date())) \(level) \(label): \(message)\(meta.isEmpty ? "" : " " + meta)")
    }
}
