import Foundation
import ReckonEngine
import Testing

/// The instants typed on the command line (`--from`, `--until`, `--now`, `--observed-at` …).
/// Expected epochs are from GNU date: `date -u -d 2026-11-03T12:00:00Z +%s` and so on, and
/// `TZ=Europe/Tallinn date -d "2026-11-03 12:00:00" +%s` for the zoned ones.
struct InstantParserTests {
    let utc = TimeZone(identifier: "UTC")!
    let tallinn = TimeZone(identifier: "Europe/Tallinn")!

    @Test func everyDocumentedFormReadsAsGNUDateDoes() throws {
        let cases: [(String, TimeZone, Int64)] = [
            ("2026-11-03", utc, 1_793_664_000),
            ("2026-11-03T00:00:00", utc, 1_793_664_000),
            ("2026-11-03T12:00:00Z", tallinn, 1_793_707_200),
            ("2026-11-03T12:00:00+02:00", utc, 1_793_700_000),
            ("2026-11-03T12:00:00", tallinn, 1_793_700_000),
            // Without the seconds, as the README's examples write them.
            ("2026-11-03T12:00", utc, 1_793_707_200),
            ("2026-11-03T00:00", utc, 1_793_664_000),
            ("2026-11-15T00:00Z", tallinn, 1_794_700_800),
            ("2026-11-03T12:00+02:00", utc, 1_793_700_000),
            ("2026-11-03T12:00", tallinn, 1_793_700_000),
            (" 2026-11-03T12:00 ", utc, 1_793_707_200),
        ]
        for (text, zone, want) in cases {
            #expect(try InstantParser.parse(text, zone: zone, option: "--from") == want, "\(text)")
        }
    }

    @Test func anythingElseIsAnErrorQuotingTheValue() {
        for bad in ["yesterday", "2026-02-30", "2026-11-27T99:00", "2026-11-03T12", "2026-11-03T12:0", "2026-11-03T12:00:0",
                    "2026-11-03T12:00:00:00", "2026-11-03T12:00+2", "2026-11-03 12:00", "",
                    "2026-11-03T12:00+-2:00", "2026-11-03T12:00:00++2:00", "2026-11-03T12:00+02:+5"] {
            #expect(throws: InstantParseError.self, "\(bad)") { try InstantParser.parse(bad, zone: utc, option: "--until") }
            do { _ = try InstantParser.parse(bad, zone: utc, option: "--until") } catch {
                #expect(error.description == "--until: expected a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] with an optional Z or ±HH:MM offset, got \"\(bad)\"")
            }
        }
    }
}
