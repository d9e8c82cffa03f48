import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// The `reckon audit --html` page rendered by a real browser: headless Chromium (Debian's
/// `chromium` package) takes a 1200×1600 screenshot, and a stdlib-only Python PNG decoder reads
/// it back to check that the charts were painted: the bar colours are there, and on some pixel
/// row there are exactly as many separate desired (and confirmed) bars as the chart has months.
///
/// Without Chromium the test prints why and passes, except under CI (`CI` set), where a missing
/// browser is a failure (.ci/run must `apt-get install -y chromium`). Set
/// `RECKON_KEEP_SCREENSHOT=1` to keep the page and the PNG (their directory is printed).
@Suite struct AuditRenderTests {
    static let width = 1200, height = 1600

    @Test func chromiumRendersTheChart() throws {
        let report = try AuditQuery(ledger: try AuditRenderFixture.build(), offerings: [AuditRenderFixture.offeringConfig])
            .audit(resource: "proj_x", month: BillingMonth(year: 2026, month: 11)!)
        let html = AuditHTML.render(report)
        // The document itself: two charts with the expected bars, nothing fetched.
        #expect(count(html, "<svg class=\"chart\"") == 2)
        #expect(count(html, "class=\"bar desired\"") == 2 * AuditRenderFixture.desiredBars)
        #expect(count(html, "class=\"bar confirmed\"") == 2 * AuditRenderFixture.confirmedBars)
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=") && !html.contains("url("))

        guard let browser = Self.findChromium() else {
            let why = "no chromium on PATH (Debian: apt-get install -y chromium)"
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("\(why); CI must install it") } else { print("skipping the screenshot check: \(why)") }
            return
        }
        let dir = NSTemporaryDirectory() + "reckon-audit-render-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let keep = ProcessInfo.processInfo.environment["RECKON_KEEP_SCREENSHOT"] != nil
        defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } else { print("audit page and screenshot kept in \(dir)") } }
        let page = dir + "/audit.html", png = dir + "/audit.png"
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))

        let shot = try Self.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                          "--disable-dev-shm-usage", "--user-data-dir=\(dir)/profile", "--screenshot=\(png)",
                                          "--window-size=\(Self.width),\(Self.height)", "file://\(page)"], timeout: 180)
        #expect(FileManager.default.fileExists(atPath: png), "chromium wrote no screenshot: \(shot)")
        guard FileManager.default.fileExists(atPath: png) else { return }

        let script = dir + "/png_stats.py"
        try Data(Self.pngStats.utf8).write(to: URL(fileURLWithPath: script))
        let out = try Self.run("/usr/bin/env", ["python3", script, png, AuditChart.desiredColor, AuditChart.confirmedColor], timeout: 300)
        let stats = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "python said: \(out)")
        #expect(stats["width"] as? Int == Self.width && stats["height"] as? Int == Self.height)
        // Not blank: text, tables and charts cover a good part of the page.
        let inked = stats["non_white_fraction"] as? Double ?? 0
        #expect(inked > 0.03, "only \(inked) of the pixels are not white")
        // The bars were painted: both colours, and one row crossing every month's bar of a chart.
        #expect((stats["desired_pixels"] as? Int ?? 0) > 2_000)
        #expect((stats["confirmed_pixels"] as? Int ?? 0) > 1_000)
        #expect(stats["max_desired_runs"] as? Int == AuditRenderFixture.desiredBars, "\(stats)")
        #expect(stats["max_confirmed_runs"] as? Int == AuditRenderFixture.confirmedBars, "\(stats)")
        // Both charts are inside the screenshot: two separate bands of rows cross several bars.
        #expect(stats["desired_bands"] as? Int == 2, "\(stats)")
    }

    func count(_ s: String, _ needle: String) -> Int { s.components(separatedBy: needle).count - 1 }

    static func findChromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-headless-shell", "chromium-browser", "google-chrome"] {
            for dir in path.split(separator: ":") {
                let p = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    /// Runs a program with its output in files (no pipe to fill up), killing it after `timeout`;
    /// returns its standard output, with standard error appended when it failed.
    static func run(_ program: String, _ args: [String], timeout: TimeInterval) throws -> String {
        let base = NSTemporaryDirectory() + "reckon-audit-run-" + UUID().uuidString
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.isRunning {
            p.terminate()
            Issue.record("\(program) did not finish within \(Int(timeout)) s")
        }
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return p.terminationStatus == 0 ? out : out + err
    }

    /// Decodes an 8-bit RGB/RGBA PNG with nothing but the standard library (zlib) and prints, as
    /// JSON: its size, the fraction of non-white pixels, the pixels close to each bar colour,
    /// the most separate runs of each colour on one row, and the bands of rows that cross two or
    /// more desired bars (one per chart).
    static let pngStats = #"""
    import json, struct, sys, zlib

    def rgb(h):
        h = h.lstrip('#'); return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))

    path, desired, confirmed = sys.argv[1], rgb(sys.argv[2]), rgb(sys.argv[3])
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, []
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4]); kind = data[pos + 4:pos + 8]; body = data[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b'IHDR': w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT': idat.append(body)
        elif kind == b'IEND': break
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat)); stride = w * bpp
    prev = bytearray(stride); i = 0; rows = []
    for y in range(h):
        f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
        if f == 1:
            for x in range(bpp, stride): line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride): line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line

    def near(px, c): return abs(px[0] - c[0]) < 40 and abs(px[1] - c[1]) < 40 and abs(px[2] - c[2]) < 40
    inked = dp = cp = 0; max_d = max_c = 0; drows = []
    for y, line in enumerate(rows):
        runs_d = runs_c = 0; in_d = in_c = False; row_d = 0
        for x in range(w):
            px = line[x * bpp:x * bpp + 3]
            if px[0] < 245 or px[1] < 245 or px[2] < 245: inked += 1
            d = near(px, desired); c = near(px, confirmed)
            if d: dp += 1; row_d += 1
            if c: cp += 1
            if d and not in_d: runs_d += 1
            if c and not in_c: runs_c += 1
            in_d, in_c = d, c
        max_d = max(max_d, runs_d); max_c = max(max_c, runs_c)
        if runs_d >= 2: drows.append(y)   # rows crossing several bars (a legend swatch is one run)
    bands = 0; last = None
    for y in drows:
        if last is None or y - last > 40: bands += 1
        last = y
    print(json.dumps({"width": w, "height": h, "non_white_fraction": inked / (w * h), "desired_pixels": dp, "confirmed_pixels": cp,
                      "max_desired_runs": max_d, "max_confirmed_runs": max_c, "desired_bands": bands}))
    """#
}
