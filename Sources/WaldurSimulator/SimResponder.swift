import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Turns Hummingbird requests into simulator requests and simulator answers into responses,
/// applying the latency and connection-drop faults that need the transport.
struct SimResponder: HTTPResponder {
    typealias Context = SimRequestContext
    let core: SimulatorCore

    func respond(to request: Request, context: SimRequestContext) async throws -> Response {
        let body: [UInt8]
        do {
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            body = Array(buffer.readableBytesView)
        } catch {
            return Response(status: .contentTooLarge)
        }
        let simRequest = SimRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: SimRequest.parseQuery(request.uri.query),
            authorization: request.headers[.authorization],
            contentType: request.headers[.contentType],
            userAgent: request.headers[.userAgent],
            host: request.head.authority ?? "127.0.0.1",
            body: body,
            peerIsLoopback: context.peerIsLoopback)

        let admission = await core.admit(simRequest)
        if admission.latencyMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(admission.latencyMilliseconds))
        }
        var answer: SimResponse
        switch admission.fault {
        case .status(let status):
            answer = SimResponse(
                status: status, headers: [("Content-Type", "text/html; charset=utf-8")],
                body: Array("<html><body><h1>\(status) Simulated failure</h1></body></html>".utf8))
        case .rateLimit(let seconds):
            answer = .detail(429, "Request was throttled. Expected available in \(seconds) seconds.",
                             headers: [("Retry-After", String(seconds))])
        case .dropAfterWrite:
            answer = await core.handle(simRequest, route: admission.route)
            answer.dropConnection = true
        case .none:
            answer = await core.handle(simRequest, route: admission.route)
        }
        await core.answered(simRequest, template: admission.template, response: answer)

        if answer.dropConnection {
            // The request has been applied; close before a byte of the answer is written.
            try? await context.channel.close()
            throw CancellationError()
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
