import Foundation
import ReckonCore
@testable import ReckonEngine
import ReckonLMDB
import Testing

/// An import records the SHA-256 of the dump it read (`reckon audit` shows it as the source).
/// The digest is computed chunk by chunk, beside each chunk's parsing, by whichever parsing
/// thread is free first (`SacctStreamParser.consumePrepared(_:alongside:emit:)`), with the
/// system's libcrypto loaded by the reading thread: it must be the digest of the whole file, in order.
@Suite struct ImportDigestTests {
    static let header = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES\n"

    func importedDigest(of text: String) throws -> String? {
        let dir = NSTemporaryDirectory() + "reckon-digest-\(UUID().uuidString)"
        defer { for s in ["", ".psv"] { try? FileManager.default.removeItem(atPath: dir + s) } }
        try text.write(toFile: dir + ".psv", atomically: true, encoding: .utf8)
        let ledger = try Ledger(store: try LMDBEventStore(directory: dir), settings: ProjectionSettings(
            calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc))
        let outcome = try IngestService(ledger: ledger).ingestFile(path: dir + ".psv", timeZone: Fixtures.utc,
                                                                   observedAt: MonthReportTests.t0, defaultCluster: "hpc1")
        guard case .file(_, let sha256)? = outcome.observations.first?.source else { return nil }
        return sha256
    }

    /// A header alone: the digest `sha256sum` (GNU coreutils) prints for these 106 bytes.
    @Test func aHeaderAlone() throws {
        #expect(try importedDigest(of: Self.header) == "d78f27cfb5d1cbd865d35ac810584885e02b82c8f93deb60249c04b30f89c81f")
    }

    /// Nothing hashed: the digest `sha256sum /dev/null` prints (what the dump reader's own test
    /// checked while the reader hashed).
    @Test func nothingHashed() {
        #expect(ContentHasher().finalizeHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// A dump of ~3.5 MB, read in four 1 MiB chunks: the core's SHA-256 (checked against the
    /// FIPS 180-4 examples in `SHA256Tests`) of the same bytes in one piece.
    @Test func aDumpOfSeveralChunks() throws {
        let text = Self.header + MonthReportTests.lines(count: 30_000).joined(separator: "\n") + "\n"
        #expect(text.utf8.count > 3 << 20)
        var whole = SHA256()
        whole.update(Array(text.utf8))
        #expect(try importedDigest(of: text) == whole.finalizeHex())
    }
}
