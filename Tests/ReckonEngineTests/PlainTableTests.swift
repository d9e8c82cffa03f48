import ReckonEngine
import Testing

/// `reckon usage`, `plan` and friends print through `PlainTable`: columns two spaces apart, as
/// wide as their widest cell in characters (not bytes), numbers right-aligned, no trailing spaces.
@Suite struct PlainTableTests {
    @Test func alignsByCharactersAndTrimsTrailingSpaces() {
        var t = PlainTable(headers: ["RESOURCE", "USER", "AMOUNT"], rightAligned: [2])
        t.add(["hpc_a", "jüri", "1.50"])
        t.add(["hpc_long_name", "", "12345.00"])
        t.add(["x", "ø", ""])
        // Written out by hand: widths 13, 4, 8.
        let expected = """
        RESOURCE       USER    AMOUNT
        -------------  ----  --------
        hpc_a          jüri      1.50
        hpc_long_name        12345.00
        x              ø
        """
        #expect(t.render() == expected)
    }

    @Test func anEmptyTableIsItsHeader() {
        #expect(PlainTable(headers: ["A", "BB"]).render() == "A  BB\n-  --")
    }
}
