import ReckonCore

/// The column layout of one sacct dump, read from its header line (`sacct -P` without
/// `--noheader`). reckon reads columns by name, so any field order and extra fields work; the
/// fields it needs and does not find are reported by name.
public struct SacctHeader: Sendable {
    public let names: [String]
    let index: [String: Int]
    /// Positions of free-text columns (JobName, Comment, SubmitLine…) that may contain `|`.
    let freeTextColumns: [Int]

    /// Columns without which a record cannot become a job run.
    public static let alwaysRequired = ["Account", "User", "Start", "End"]
    /// Columns that can hold arbitrary text, and so stray `|` characters.
    static let freeText: Set<String> = ["JobName", "Comment", "AdminComment", "SystemComment", "SubmitLine", "WorkDir",
                                        "Constraints", "Container", "Extra", "StdOut", "StdErr", "StdIn", "Reason", "Licenses"]

    /// Parses the header line. Throws when a required column is missing, naming all of them.
    public init(line: Substring) throws(SacctFormatError) {
        var l = line
        if l.last == "|" { l = l.dropLast() }   // `-p` output ends every line with `|`
        names = l.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingCharacters() }
        var idx: [String: Int] = [:]
        for (i, n) in names.enumerated() where idx[n] == nil { idx[n] = i }
        index = idx
        freeTextColumns = names.enumerated().filter { Self.freeText.contains($0.element) }.map(\.offset)
        var missing = Self.alwaysRequired.filter { idx[$0] == nil }
        if idx["JobIDRaw"] == nil && idx["JobID"] == nil { missing.insert("JobIDRaw (or JobID)", at: 0) }
        if idx["DBIndex"] == nil && idx["Submit"] == nil { missing.append("Submit (or DBIndex)") }
        guard missing.isEmpty else {
            throw SacctFormatError.missingFields(missing, header: String(line.prefix(200)))
        }
    }

    /// What is odd about the layout without making it unreadable: with neither AllocTRES nor
    /// ReqTRES every run is recorded without any usage (a dump made with a `--format` that left
    /// them out); said once per import rather than refused, as its runs are still real.
    public var warnings: [String] {
        guard index["AllocTRES"] == nil && index["ReqTRES"] == nil else { return [] }
        return ["the sacct header has neither AllocTRES nor ReqTRES: its runs are recorded without any usage (dump with a --format that includes AllocTRES and ReqTRES)"]
    }

    public func position(of name: String) -> Int? { index[name] }
    public var count: Int { names.count }
}

/// Why sacct output as a whole cannot be read (as opposed to one malformed record).
public enum SacctFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingFields([String], header: String)
    case noHeader
    case notUTF8

    public var description: String {
        switch self {
        case .missingFields(let f, let h):
            return "sacct header lacks required field\(f.count == 1 ? "" : "s") \(f.joined(separator: ", ")) (header: \"\(h)\"); dump with sacct -P and a --format that includes them"
        case .noHeader:
            return "the sacct output is empty: expected a header line (sacct -P without --noheader)"
        case .notUTF8:
            return "the sacct output is not text"
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
