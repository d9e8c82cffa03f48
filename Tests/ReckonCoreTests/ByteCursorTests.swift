import ReckonCore
import Testing

/// `ByteCursor.raw` copies short byte strings inline (two overlapping loads and stores) and long
/// ones with `memmove`; every length from 0 to 40, written after 0 to 3 bytes already there,
/// must leave exactly the bytes given (compared with the array the same bytes make), and a write
/// that does not fit must be dropped whole.
@Suite struct ByteCursorTests {
    @Test func rawWritesExactlyTheBytesGivenAtEveryLength() throws {
        for lead in 0...3 {
            for n in 0...40 {
                let given = (0..<n).map { UInt8(truncatingIfNeeded: 7 &* $0 &+ 1) }
                var memory = [UInt8](repeating: 0xEE, count: 64)
                let written: [UInt8] = memory.withUnsafeMutableBufferPointer { buffer in
                    guard var cursor = ByteCursor(buffer) else { return [] }
                    for _ in 0..<lead { cursor.u8(0xAA) }
                    given.withUnsafeBufferPointer { cursor.raw($0) }
                    #expect(!cursor.overflowed)
                    return Array(cursor.written)
                }
                #expect(written == [UInt8](repeating: 0xAA, count: lead) + given, "lead \(lead), \(n) bytes")
                #expect(memory[(lead + n)...].allSatisfy { $0 == 0xEE }, "nothing written past the end: lead \(lead), \(n) bytes")
            }
        }
    }

    @Test func aWriteThatDoesNotFitIsDropped() {
        var memory = [UInt8](repeating: 0, count: 10)
        memory.withUnsafeMutableBufferPointer { buffer in
            guard var cursor = ByteCursor(buffer) else { Issue.record("no cursor"); return }
            cursor.u8(1)
            [UInt8](repeating: 9, count: 10).withUnsafeBufferPointer { cursor.raw($0) }
            #expect(cursor.overflowed && cursor.count == 1)
        }
        #expect(memory == [1] + [UInt8](repeating: 0, count: 9))
    }
}
