import Foundation
import ReckonCore
import ReckonEngine

/// Paths of the repository's fixtures and the shared samples, and a fresh in-memory ledger.
enum Fixtures {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ rel: String) -> String { repo.appendingPathComponent(rel).path }
    static func shared(_ rel: String) -> String { repo.deletingLastPathComponent().appendingPathComponent("shared/" + rel).path }

    static let utc = TimeZone(identifier: "UTC")!

    static func ledger(timeZone: String = "UTC", tres: TRESSource = .alloc) throws -> Ledger {
        try Ledger(store: InMemoryEventStore(), settings: ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: timeZone)!, tresSource: tres))
    }

    /// Reads a TSV with a header into dictionaries.
    static func tsv(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        guard let head = lines.first?.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) else { return [] }
        return lines.dropFirst().map { l in
            let f = l.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(head, f))
        }
    }
}
