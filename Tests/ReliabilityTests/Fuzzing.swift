import Foundation

/// A small deterministic mutation fuzzer (libFuzzer-style mutations over a corpus of real
/// samples) for `swift test`: runs a target for a fixed time budget, or a fixed number of
/// inputs, from a seed that is printed so any failure replays exactly.
///
/// - `RECKON_FUZZ_SECONDS` (default 4): the time budget of each target.
/// - `RECKON_FUZZ_SEED` (default: a fixed seed per target): the generator's seed.
/// - `RECKON_FUZZ_ARTIFACTS` (default: the temporary directory): where the current input is kept
///   (`<target>.current`) so a crash leaves its reproducer behind, and failing inputs are saved.
/// A single input running longer than 60 s is a hang: the input is saved and the process aborts.
struct Fuzzer: Sendable {
    let name: String
    var rng: SplitMix
    let seed: UInt64
    let corpus: [[UInt8]]
    let dictionary: [[UInt8]]

    static var budget: TimeInterval {
        Double(ProcessInfo.processInfo.environment["RECKON_FUZZ_SECONDS"] ?? "") ?? 4
    }

    static var artifacts: String {
        ProcessInfo.processInfo.environment["RECKON_FUZZ_ARTIFACTS"] ?? NSTemporaryDirectory()
    }

    init(name: String, defaultSeed: UInt64, corpus: [[UInt8]], dictionary: [String]) {
        self.name = name
        let s = ProcessInfo.processInfo.environment["RECKON_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
        seed = s
        rng = SplitMix(s)
        self.corpus = corpus.isEmpty ? [[]] : corpus
        self.dictionary = dictionary.map { Array($0.utf8) }
    }

    /// ``run(_:)`` on a thread of its own. A fuzz target is a blocking loop for its whole budget
    /// (60 s each in CI); run on the test runner's cooperative pool — two threads on a 2-core
    /// machine — two targets at once starve every async test beside them (the Waldur
    /// simulator is an actor, and its clients time out).
    func runOffPool(_ body: @escaping @Sendable ([UInt8]) -> String?) async -> (inputs: Int, failures: [String]) {
        await withCheckedContinuation { continuation in
            let fuzzer = self
            let thread = Thread {
                var f = fuzzer
                continuation.resume(returning: f.run(body))
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Mutated inputs run after the corpus however long the corpus took: on a loaded machine
    /// (the whole suite beside it) the corpus alone could spend the default budget.
    static let minimumMutations = 16

    /// Runs `body` on the corpus itself, then on mutated inputs until the budget is spent (and
    /// at least ``minimumMutations`` of them). Returns the number of inputs tried. `body`
    /// returns a failure text, or nil.
    mutating func run(_ body: ([UInt8]) -> String?) -> (inputs: Int, failures: [String]) {
        let current = Self.artifacts + "/\(name).current"
        print("fuzz \(name): seed \(seed) (RECKON_FUZZ_SEED), budget \(Self.budget) s (RECKON_FUZZ_SECONDS); current input in \(current)")
        let watchdog = Watchdog(name: name, path: current)
        var failures: [String] = []
        var slowest: (seconds: Double, input: Int, bytes: Int) = (0, 0, 0)
        var slowestInput: [UInt8] = []
        var n = 0
        let deadline = Date().addingTimeInterval(Self.budget)
        var inputs = corpus.makeIterator()
        while true {
            let input: [UInt8]
            if let c = inputs.next() { input = c } else {
                guard Date() < deadline || n < corpus.count + Self.minimumMutations else { break }
                input = mutate()
            }
            n += 1
            FileManager.default.createFile(atPath: current, contents: Data(input))
            watchdog.started()
            let t0 = Date()
            let failure = body(input)
            let took = Date().timeIntervalSince(t0)
            if took > slowest.seconds { slowest = (took, n, input.count); slowestInput = input }
            watchdog.finished()
            if let failure {
                let saved = Self.artifacts + "/\(name)-failure-\(failures.count).bin"
                FileManager.default.createFile(atPath: saved, contents: Data(input))
                failures.append("input #\(n) (seed \(seed), saved in \(saved)): \(failure)")
                if failures.count >= 5 { break }
            }
        }
        watchdog.stop()
        print("fuzz \(name): \(n) inputs, \(failures.count) failures; slowest input #\(slowest.input) (\(slowest.bytes) bytes) took \(String(format: "%.2f", slowest.seconds)) s")
        if slowest.seconds > 1 {
            let saved = Self.artifacts + "/\(name)-slowest.bin"
            FileManager.default.createFile(atPath: saved, contents: Data(slowestInput))
            print("fuzz \(name): (informational, no time is asserted) the slowest input is in \(saved)")
        }
        return (n, failures)
    }

    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

    /// One to eight stacked mutations of a corpus entry.
    mutating func mutate() -> [UInt8] {
        var b = pick(corpus)
        for _ in 0..<(1 + below(8)) {
            switch below(10) {
            case 0 where !b.isEmpty: b[below(b.count)] ^= UInt8(1 << below(8))                       // flip a bit
            case 1: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: below(b.count + 1))           // insert a byte
            case 2 where !b.isEmpty:                                                                  // erase a range
                let i = below(b.count); b.removeSubrange(i..<min(b.count, i + 1 + below(64)))
            case 3 where !b.isEmpty:                                                                  // duplicate a range
                let i = below(b.count); let r = Array(b[i..<min(b.count, i + 1 + below(256))])
                b.insert(contentsOf: r, at: below(b.count + 1))
            case 4, 5: b.insert(contentsOf: pick(dictionary), at: below(b.count + 1))                 // a dictionary word
            case 6 where !b.isEmpty:                                                                  // overwrite with a word
                let w = pick(dictionary); let i = below(b.count)
                b.replaceSubrange(i..<min(b.count, i + w.count), with: w)
            case 7:                                                                                   // splice another input
                let o = pick(corpus); if !o.isEmpty { let i = below(o.count); b += o[i..<min(o.count, i + below(2048))] }
            case 8 where !b.isEmpty: b.removeLast(below(min(b.count, 200)))                           // truncate
            default:                                                                                  // repeat a word many times
                let w = pick(dictionary); let k = 1 + below(300)
                b.insert(contentsOf: Array([[UInt8]](repeating: w, count: k).joined()), at: below(b.count + 1))
            }
        }
        return b
    }
}

/// SplitMix64: a tiny, good, seedable generator.
struct SplitMix: Sendable {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Aborts the process, leaving the input behind, when one input runs for more than 60 s.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var since: Date?
    private let timer: DispatchSourceTimer

    init(name: String, path: String) {
        timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 5, repeating: 5)
        timer.setEventHandler { [self] in
            lock.lock(); let s = since; lock.unlock()
            if let s, Date().timeIntervalSince(s) > 60 {
                FileHandle.standardError.write(Data("fuzz \(name): HANG: one input ran for more than 60 s; it is in \(path)\n".utf8))
                abort()
            }
        }
        timer.resume()
    }

    func started() { lock.lock(); since = Date(); lock.unlock() }
    func finished() { lock.lock(); since = nil; lock.unlock() }
    func stop() { timer.cancel() }
}

enum Corpus {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Files under `directory` (relative to the repository, or `../shared/...`) with these extensions.
    static func files(_ directory: String, extensions: [String]) -> [[UInt8]] {
        let dir = repo.appendingPathComponent(directory).standardizedFileURL.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.sorted().filter { n in extensions.contains { n.hasSuffix($0) } }.compactMap {
            (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))).map { Array($0.prefix(200_000)) }
        }
    }
}
