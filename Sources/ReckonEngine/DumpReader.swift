import Foundation

/// Reads a saved sacct dump ahead of the parsing thread, a chunk at a time on a thread of its
/// own.
///
/// The parsing thread bounds an import; reading a megabyte from the page cache is a copy of
/// ~0.2 ms in the kernel, ~5% of a whole import when the parsing thread made it itself. Here it
/// only takes chunks already read: the reader keeps at most ``ahead`` chunks waiting, and stops
/// at the end of the file, at a read error — handed over in order, after the chunks read before
/// it — or when told to. (The dump's SHA-256 is computed beside the parsing of each chunk, see
/// ``IngestService``; this thread only loads the library that computes it, before the first
/// chunk needs it.)
final class DumpReader: @unchecked Sendable {   // `lock` guards `waiting` and `stopped`
    /// What the reader hands over: a chunk, the end, or why reading stopped.
    private enum Item {
        case chunk(Data)
        case end
        case failed(String)
    }

    private let fd: Int32
    private let buffers: ReadBuffers
    private let lock = NSLock()
    private var waiting: [Item] = []
    private var stopped = false
    /// Items in `waiting`.
    private let ready = DispatchSemaphore(value: 0)
    /// Chunks the reader may still read before the parser takes one.
    private let room: DispatchSemaphore
    private let finished = DispatchGroup()

    /// Chunks read ahead at most: enough to cover a slow read, few enough to keep memory small.
    static let ahead = 2

    /// Starts reading `fd` (which must stay open until ``digest()`` or ``stop()`` returns) in
    /// chunks of `chunkSize` bytes.
    init(fd: Int32, chunkSize: Int) {
        self.fd = fd
        buffers = ReadBuffers(size: chunkSize)
        // Made empty and then signalled: libdispatch stops a process that releases a semaphore
        // holding less than it was made with, as this one may at the end.
        room = DispatchSemaphore(value: 0)
        for _ in 0..<Self.ahead { room.signal() }
        finished.enter()
        DispatchQueue(label: "reckon.ingest.read").async { [self] in
            readAll()
            finished.leave()
        }
    }

    private func readAll() {
        var first = true
        while true {
            room.wait()
            if isStopped { return }
            // Uninitialised memory, filled by read(2): `Data(count:)` would zero each megabyte first.
            guard let memory = buffers.take() else {
                hand(.failed("out of memory for a read buffer of \(buffers.size) bytes"))
                return
            }
            var n: Int
            repeat { n = read(fd, memory, buffers.size) } while n < 0 && errno == EINTR
            if n <= 0 {
                let e = errno
                buffers.give(memory)
                hand(n == 0 ? .end : .failed(String(cString: strerror(e))))
                return
            }
            let chunk = Data(bytesNoCopy: memory, count: n, deallocator: .custom { [buffers] p, _ in buffers.give(p) })
            hand(.chunk(chunk))
            if first {
                first = false
                ContentHasher.loadLibrary()   // (~1 ms) while the parser takes the first chunk
            }
        }
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func hand(_ item: Item) {
        lock.lock()
        waiting.append(item)
        lock.unlock()
        ready.signal()
    }

    /// The end or the failure, once the parser has been told it (only the parser reads this).
    private var last: Item?

    /// The next chunk in file order; nil at the end of the file. Throws ``IngestError/cannotRead(path:message:)``
    /// (naming `path`) when a read failed. Called by one thread, the parser's.
    func next(path: String) throws -> Data? {
        let item: Item
        if let l = last {
            item = l
        } else {
            ready.wait()
            lock.lock()
            item = waiting.removeFirst()
            lock.unlock()
        }
        switch item {
        case .chunk(let data):
            room.signal()
            return data
        case .end:
            last = item
            return nil
        case .failed(let message):
            last = item
            throw IngestError.cannotRead(path: path, message: message)
        }
    }

    /// Stops reading (the parser failed, or took the end of the file) and waits until the
    /// reading thread is done with `fd`.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        room.signal()
        finished.wait()
    }
}

/// The read buffers of one import: a buffer the hashing and parsing threads are done with is
/// kept for a next chunk (a few at most), so that the import does not take fresh pages — a
/// page fault each — for every megabyte it reads.
final class ReadBuffers: @unchecked Sendable {   // the lock guards `kept`
    let size: Int
    private let lock = NSLock()
    private var kept: [UnsafeMutableRawPointer] = []
    private static let most = 4

    init(size: Int) { self.size = size }

    deinit { for p in kept { free(p) } }

    /// A buffer of `size` bytes, uninitialised; nil when memory is exhausted.
    func take() -> UnsafeMutableRawPointer? {
        lock.lock()
        let p = kept.popLast()
        lock.unlock()
        return p ?? malloc(size)
    }

    /// Gives a buffer from ``take()`` back.
    func give(_ p: UnsafeMutableRawPointer) {
        lock.lock()
        if kept.count < Self.most {
            kept.append(p)
            lock.unlock()
        } else {
            lock.unlock()
            free(p)
        }
    }
}
