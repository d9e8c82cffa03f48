import Hummingbird
import NIOCore

/// Hummingbird request context that keeps the connection's channel, so the simulator can see the
/// peer address (admin endpoints are loopback-only) and drop a connection on purpose.
struct SimRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// 16 MiB: larger bodies are refused before parsing.
    var maxUploadSize: Int { 16 * 1024 * 1024 }

    /// True when the peer is 127.0.0.0/8 or ::1.
    var peerIsLoopback: Bool {
        guard let address = channel.remoteAddress else { return false }
        switch address {
        case .v4:
            return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            let ip = address.ipAddress ?? ""
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }
}
