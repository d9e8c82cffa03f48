import Foundation
import ReckonCore

/// Why running sacct failed. Messages name the command and quote what sacct said.
public enum SacctRunError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(executable: String)
    case launchFailed(executable: String, message: String)
    case exited(code: Int32, stderr: String)
    case killed(signal: Int32, stderr: String)
    case timedOut(seconds: Int, stderr: String)

    public var description: String {
        switch self {
        case .notFound(let e):
            return "sacct not found at \(e): set backend_settings.slurm_bin_path to the directory holding sacct"
        case .launchFailed(let e, let m):
            return "could not start \(e): \(m)"
        case .exited(let c, let s):
            return "sacct exited with status \(c)" + (s.isEmpty ? "" : ": \(s)")
        case .killed(let sig, let s):
            return "sacct was killed by signal \(sig)" + (s.isEmpty ? "" : ": \(s)")
        case .timedOut(let secs, let s):
            return "sacct did not finish within \(secs) s and was killed" + (s.isEmpty ? "" : "; it said: \(s)")
        }
    }
}

/// Runs sacct as a child process (argument vector, no shell) and streams its standard output
/// to a consumer in chunks while it runs; stderr is collected (bounded) for messages. A
/// timeout stops the child's whole process group — a wrapper script and what it started —
/// with SIGTERM, then SIGKILL 2 s later.
public struct SacctRunner: Sendable {
    public var timeoutSeconds: Int

    public init(timeoutSeconds: Int = 600) { self.timeoutSeconds = timeoutSeconds }

    /// Runs `command`, calling `consume` with each chunk of stdout. Returns sacct's stderr text
    /// (warnings) when it exits 0; throws otherwise. Anything `consume` throws is rethrown after
    /// the child has been stopped.
    public func run(_ command: SacctCommand, consume: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        let exe = command.executable
        let resolved: String
        if exe.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: exe) else { throw SacctRunError.notFound(executable: exe) }
            resolved = exe
        } else {
            let path = (command.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            guard let found = path.split(separator: ":").map({ "\($0)/\(exe)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw SacctRunError.notFound(executable: exe + " (in PATH)")
            }
            resolved = found
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolved)
        process.arguments = command.arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in command.environment { env[k] = v }
        env.removeValue(forKey: "SACCT_FORMAT")
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw SacctRunError.launchFailed(executable: resolved, message: "\(error.localizedDescription)")
        }

        let stderrBox = StderrCollector(handle: err.fileHandleForReading)
        stderrBox.start()
        let timedOut = TimeoutFlag()
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.schedule(deadline: .now() + .seconds(timeoutSeconds))
        // Foundation starts the child as the leader of a process group of its own, so a signal
        // to the group also reaches what a wrapper script started (its `sleep`, the real sacct).
        let group = -process.processIdentifier
        timer.setEventHandler {
            timedOut.set()
            kill(group, SIGTERM)
            // Also when the output has already ended and the wait is for the exit: a child that
            // ignores SIGTERM is not waited for past the grace.
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { kill(group, SIGKILL) }
        }
        timer.resume()
        defer { timer.cancel() }

        let fd = out.fileHandleForReading.fileDescriptor
        let bufSize = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 8)
        defer { buf.deallocate() }
        var consumerError: Error?
        // Poll with a short timeout rather than block in read(): a child's own children (a
        // wrapper script's `sleep`) can keep the pipe open after the child is killed.
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var killAt: Date?
        while true {
            if timedOut.isSet {
                // SIGTERM went to the group; what has not ended 2 s later is killed.
                let at = killAt ?? Date().addingTimeInterval(2)
                killAt = at
                if Date() >= at {
                    kill(group, SIGKILL)
                    break
                }
            }
            let ready = poll(&pfd, 1, 200)
            if ready < 0 { if errno == EINTR { continue }; break }
            if ready == 0 { continue }
            let n = read(fd, buf.baseAddress, bufSize)
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; break }
            if n == 0 { break }
            if consumerError == nil {
                do { try consume(UnsafeRawBufferPointer(rebasing: buf[0..<n])) } catch {
                    consumerError = error
                    kill(group, SIGTERM)
                }
            }
        }
        if timedOut.isSet {
            // The group was killed; wait a bounded time for Foundation to see the child end
            // (a grandchild that left the group may still hold the pipes), not forever.
            kill(group, SIGKILL)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
        } else {
            process.waitUntilExit()
        }
        timer.cancel()   // the child has ended: no signal may reach a later process with its group id
        let stderrText = stderrBox.finish()
        if let consumerError { throw consumerError }
        if timedOut.isSet { throw SacctRunError.timedOut(seconds: timeoutSeconds, stderr: stderrText) }
        guard !process.isRunning else { throw SacctRunError.timedOut(seconds: timeoutSeconds, stderr: stderrText) }
        switch process.terminationReason {
        case .uncaughtSignal: throw SacctRunError.killed(signal: process.terminationStatus, stderr: stderrText)
        case .exit:
            guard process.terminationStatus == 0 else { throw SacctRunError.exited(code: process.terminationStatus, stderr: stderrText) }
        @unknown default: break
        }
        return stderrText
    }
}

/// Reads a child's stderr on its own thread (so a chatty child cannot block on a full pipe),
/// keeping at most 64 KiB.
final class StderrCollector: @unchecked Sendable {
    private let handle: FileHandle
    private var data = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle) { self.handle = handle }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                if data.count < 65_536 { data.append(chunk.prefix(65_536 - data.count)) }
                lock.unlock()
            }
            done.signal()
        }
    }

    /// The collected text; waits at most 2 s for the end of the stream (a killed child's own
    /// children may hold it open).
    func finish() -> String {
        _ = done.wait(timeout: .now() + 2)
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

final class TimeoutFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
