import Foundation
import ReckonCore
@testable import ReckonEngine
import Testing

/// The reader that reads an imported dump ahead of the parser, on a thread of its own: the
/// parser must get every byte once, in order; a read error must reach the parser, naming the
/// file; and a parser that stops early must be able to let the reader go. (The dump's digest,
/// computed beside the parsing, is `ImportDigestTests`'.)
@Suite struct DumpReaderTests {
    /// A file of `count` bytes (a repeating, position-dependent pattern), removed afterwards.
    func withFile<R>(bytes count: Int, _ body: (String, [UInt8], Int32) throws -> R) throws -> R {
        let path = NSTemporaryDirectory() + "reckon-dump-reader-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        return try body(path, bytes, fd)
    }

    /// 10,000 bytes in chunks of 1,024: ten chunks, the last of 784 bytes, the same bytes in
    /// the same order.
    @Test func everyByteOnceInOrder() throws {
        try withFile(bytes: 10_000) { path, bytes, fd in
            let reader = DumpReader(fd: fd, chunkSize: 1_024)
            var read: [UInt8] = []
            var sizes: [Int] = []
            while let chunk = try reader.next(path: path) {
                sizes.append(chunk.count)
                read.append(contentsOf: chunk)
            }
            #expect(sizes == Array(repeating: 1_024, count: 9) + [784])
            #expect(read == bytes)
            let again = try reader.next(path: path)
            #expect(again == nil)   // the end stays the end
            reader.stop()
        }
    }

    /// An empty file: no chunk.
    @Test func anEmptyFile() throws {
        try withFile(bytes: 0) { path, _, fd in
            let reader = DumpReader(fd: fd, chunkSize: 1_024)
            let none = try reader.next(path: path)
            #expect(none == nil)
            reader.stop()
        }
    }

    /// read(2) of a directory fails (EISDIR): the parser gets the error, naming the path.
    @Test func aReadErrorReachesTheParserNamingTheFile() throws {
        let dir = NSTemporaryDirectory() + "reckon-dump-reader-dir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        let reader = DumpReader(fd: fd, chunkSize: 1_024)
        let error = #expect(throws: IngestError.self) { try reader.next(path: dir) }
        #expect(error?.description == "cannot read \(dir): \(String(cString: strerror(EISDIR)))")
        // Asked again, the parser is told the same.
        #expect(throws: IngestError.self) { try reader.next(path: dir) }
        reader.stop()
    }

    /// A parser that fails after one chunk of a file many chunks long stops the reader, which
    /// is then released with chunks still read ahead (libdispatch stops a process that releases
    /// a semaphore below its starting value; this must not be one).
    @Test func aParserThatStopsEarlyLetsTheReaderGo() throws {
        try withFile(bytes: 64 * 1_024) { path, bytes, fd in
            var reader: DumpReader? = DumpReader(fd: fd, chunkSize: 1_024)
            let first = try reader?.next(path: path)
            #expect(first.map(Array.init) == Array(bytes[0..<1_024]))
            reader?.stop()
            reader = nil
        }
    }
}
