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
        faults: SimulatorFaults = .none, logger: Logger = WaldurSimulator.defaultLogger
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
        let core = SimulatorCore(catalog: catalog, store: store, timeZone: zone, timeZoneName: zoneName, faults: faults,
                                 statePath: statePath, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        // Hummingbird's own messages ("Server started ...", and an error per open connection when
        // the server is stopped by cancellation) are noise for a test double; bind failures
        // surface as `SimulatorError.startup` instead.
        var serverLogger = logger
        serverLogger.logLevel = .critical
        let app = Application(
            responder: SimResponder(core: core),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "waldur-sim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: serverLogger)
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

    /// A logger that writes to standard error (standard output carries the `listening on` line).
    public static var defaultLogger: Logger {
        Logger(label: "waldur-sim", factory: { StreamLogHandler.standardError(label: $0) })
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

    /// Replaces the fault mix (as `POST /_sim/faults`).
    public func setFaults(_ faults: SimulatorFaults) async throws {
        try await core.setFaults(faults)
    }

    /// Freezes the simulator's clock at `date`, or returns to the real clock with nil (as `POST /_sim/clock`).
    public func setNow(_ date: Date?) async {
        await core.setNow(date)
    }

    /// Requests received so far, keyed `METHOD /path/template/` (as `GET /_sim/requests` "counts").
    public func requestCounts() async -> [String: Int] {
        await core.requestCounts()
    }

    /// `User-Agent` values of `/api/` requests so far, with their counts (as `GET /_sim/requests` "user_agents").
    public func userAgents() async -> [String: Int] {
        await core.userAgents()
    }

    /// Every stored component usage and user usage, as `GET /_sim/usages` renders them.
    public func storedUsagesJSON() async -> String {
        await core.usagesJSON().serialized()
    }
}
