import Foundation
import Testing

/// The daemon's `/metrics` and `/healthz` (with `reckon.metrics_address`), served by the real
/// `reckon daemon`, read over loopback, and its graceful stop on SIGTERM with the server running.
@Suite(.serialized) struct MetricsEndpointTests {
    /// A loopback port that was free a moment ago (bound to port 0, then released).
    static func freePort() throws -> Int {
        let (fd, port) = try LoopbackSocket.bound()
        close(fd)
        return port
    }

    /// `GET path` over HTTP/1.1 with `Connection: close`: the status code and the body. Retries a
    /// refused connection for a while (the server starts beside the first tick).
    static func get(port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
            defer { close(fd) }
            var addr = LoopbackSocket.address(port: port)
            let connected = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else {
                guard Date() < deadline else { throw HarnessError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw HarnessError("send: \(errno)") }
            var response: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                response += buf[0..<n]
            }
            let text = String(decoding: response, as: UTF8.self)
            guard let statusLine = text.split(separator: "\r\n").first, let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }),
                  let split = text.range(of: "\r\n\r\n") else { throw HarnessError("not an HTTP response: \(text.prefix(200))") }
            return (code, String(text[split.upperBound...]))
        }
    }

    /// Several daemons in a row, each: a tick, `/metrics` holding its counters, `/healthz` 200
    /// (judged by the ticks' clock: `--now` here), an unknown path 404, then SIGTERM at a
    /// different moment after the requests and exit 0. The server used to run a service group
    /// of its own with its own SIGTERM handler; an audit saw the daemon exit 1 ("a service has
    /// finished unexpectedly") in about 3 of 20 stops. That race did not show on this machine
    /// (0 of 40 stops here with the old server), so this test guards the clean stop, not the race.
    @Test func metricsAndHealthAreServedAndSIGTERMStopsTheDaemonCleanly() async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        for round in 1...20 {
            let port = try Self.freePort()
            try h.writeConfig(extraReckon: "metrics_address: \"127.0.0.1:\(port)\"")
            try? FileManager.default.removeItem(atPath: h.stateDir + "/heartbeat")
            let daemon = try h.spawn("daemon")
            try await waitFor(h.stateDir + "/heartbeat", while: daemon)
            let metrics = try await Self.get(port: port, "/metrics")
            #expect(metrics.status == 200, "round \(round)")
            #expect(metrics.body.contains("reckon_ticks_total{result=\"ok\"} 1"), "round \(round): \(metrics.body.prefix(2_000))")
            #expect(metrics.body.contains("reckon_last_successful_tick_timestamp_seconds"), "round \(round)")
            let health = try await Self.get(port: port, "/healthz")
            #expect(health.status == 200, "round \(round): \(health.body)")
            let missing = try await Self.get(port: port, "/nothing-here")
            #expect(missing.status == 404, "round \(round)")
            try await Task.sleep(for: .milliseconds(50 * (round % 6)))
            daemon.signal(SIGTERM)
            let end = await daemon.finished()
            #expect(end.status == 0 && !end.signalled, "round \(round): \(end.all)")
            #expect(end.stderr.contains("reckon daemon stopped"), "round \(round): \(end.stderr)")
        }
    }
}

/// IPv4 loopback sockets for the tests that stand in for a server or look for a free port.
enum LoopbackSocket {
    static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return addr
    }

    /// A TCP socket bound to 127.0.0.1 on a port the system chose, and that port.
    static func bound() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var addr = address(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { close(fd); throw HarnessError("bind: \(errno)") }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }
}
