import Foundation
import ReckonCore
import ReckonSacct

/// Locates the shared reference samples (`../shared` beside the repository) and the repo's fixtures.
enum SampleFiles {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repo.deletingLastPathComponent().appendingPathComponent("shared/sacct-samples")

    static func path(_ name: String) -> String { shared.appendingPathComponent(name).path }
    static func fixture(_ name: String) -> String { repo.appendingPathComponent("fixtures/" + name).path }

    /// Parses a whole file with the streaming parser, feeding it in small chunks to exercise
    /// lines that cross chunk edges.
    static func parse(_ path: String, zone: String = "UTC", chunk: Int = 97) throws -> (runs: [JobRun], parser: SacctStreamParser) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try parse(data: data, zone: zone, chunk: chunk)
    }

    static func parse(text: String, zone: String = "UTC", chunk: Int = 97) throws -> (runs: [JobRun], parser: SacctStreamParser) {
        try parse(data: Data(text.utf8), zone: zone, chunk: chunk)
    }

    static func parse(data: Data, zone: String, chunk: Int) throws -> (runs: [JobRun], parser: SacctStreamParser) {
        var p = SacctStreamParser(timeZone: TimeZone(identifier: zone)!, defaultCluster: "dflt")
        var runs: [JobRun] = []
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            let n = min(chunk, bytes.count - i)
            try bytes[i..<i + n].withUnsafeBytes { try p.consume($0) { runs.append($0) } }
            i += n
        }
        try p.finish { runs.append($0) }
        return (runs, p)
    }
}
