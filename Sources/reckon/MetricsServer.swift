import Hummingbird
import Logging
import Prometheus
import ReckonCore
import ReckonEngine
import ServiceLifecycle

/// `/metrics` (Prometheus text format) and `/healthz` on the configured address, as a service of
/// the daemon's service group.
struct MetricsServer: Service {
    let app: Application<RouterResponder<BasicRequestContext>>

    init(address: String, registry: PrometheusCollectorRegistry, health: HealthState, clock: any WallClock, logger: Logger) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw CLIError("reckon.metrics_address: expected host:port, got \"\(address)\"")
        }
        let host = String(address[..<colon])
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ -> Response in
            let s = await health.status(now: clock.now())   // the ticks' clock (`--now` fixes both)
            return Response(status: s.healthy ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: s.text + "\n")))
        }
        var quiet = logger
        quiet.logLevel = .warning
        app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: quiet)
    }

    /// The application as a service of the daemon's group. Not `runService()`: that wraps it in
    /// a service group of its own with its own SIGTERM handler, which could stop the server
    /// before the daemon's group asked it to — and the group then failed with "a service has
    /// finished unexpectedly" (exit 1 instead of 0 after SIGTERM, in ~3 of 20 runs).
    func run() async throws { try await app.run() }
}
