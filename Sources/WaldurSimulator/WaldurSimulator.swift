import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A faithful Waldur Mastermind test double, served over real HTTP on 127.0.0.1.
///
/// Tests start it in-process on port 0 and talk to it with the real client; scripts run it as
/// `reckon waldur-sim`. It implements the usage-reporting part of Waldur's API as the reference
/// (§9) describes it, plus loopback-only `/_sim/*` admin endpoints and fault injection.
public final class WaldurSimulator: Sendable {
    /// The bound port.
    public let port: Int
    private let core: SimulatorCore
    private let task: Task<Void, any Error>

    /// `http://127.0.0.1:PORT`, the value for a client's `api_url` (the client adds `/api/...`).
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, core: SimulatorCore, task: Task<Void, any Error>) {
        self.port = port
        self.core = core
        self.task = task
    }

    /// Starts a simulator and returns once it accepts connections.
    ///
    /// - Parameters:
    ///   - seed: the starting data.
    ///   - port: 0 picks a free port.
    ///   - timeZone: the server's `TIME_ZONE` (IANA name); overrides the seed's; default UTC.
    ///   - statePath: when given, usages are loaded from this JSON file if it exists and saved to
    ///     it after every change.
    ///   - faults: the initial fault mix.
    public static func start(
        seed: SimulatorSeed, port: Int = 0, timeZone: String? = nil, statePath: String? = nil,
        faults: SimulatorFaults = .none, logger: Logger = Logger(label: "waldur-sim")
    ) async throws -> WaldurSimulator {
        guard (0...65535).contains(port) else { throw SimulatorError.invalidOption("port \(port) is not 0...65535") }
        let zoneName = timeZone ?? seed.timeZone ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw SimulatorError.invalidOption("time zone \"\(zoneName)\" is not a known IANA zone")
        }
        try faults.validate()
        let catalog = try SimCatalog(seed: seed)
        var store = try SimUsageStore(seed: seed, catalog: catalog, now: Date())
        if let statePath, let saved = try SimStateFile.load(statePath) {
            store = saved
        }
        let core = SimulatorCore(catalog: catalog, store: store, timeZone: zone, faults: faults,
                                 statePath: statePath, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: SimResponder(core: core),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "waldur-sim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        let startupError = Mutex<String?>(nil)
        let task = Task {
            do {
                try await app.run()
            } catch {
                startupError.withLock { $0 = "\(error)" }
                continuation.finish()
                throw error
            }
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            task.cancel()
            let reason = startupError.withLock { $0 } ?? "the server stopped before listening"
            throw SimulatorError.startup("cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        return WaldurSimulator(port: bound, core: core, task: task)
    }

    /// Stops the server and waits until it has closed its socket.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Waits until the server stops (it runs until the task is cancelled or `stop()` is called).
    public func waitUntilStopped() async throws {
        try await withTaskCancellationHandler {
            _ = try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Every stored component usage and user usage, as `GET /_sim/usages` renders them.
    public func storedUsagesJSON() async -> String {
        await core.usagesJSON().serialized()
    }
}
