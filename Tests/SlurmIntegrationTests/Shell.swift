import Foundation

/// The result of one finished command.
struct CommandResult: Sendable {
    var command: String
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
    var ok: Bool { status == 0 }
    var summary: String {
        "`\(command)` exited \(status) after \(String(format: "%.1f", seconds)) s\n--- stdout\n\(stdout.suffix(4000))\n--- stderr\n\(stderr.suffix(4000))"
    }
}

struct ShellError: Error, CustomStringConvertible {
    var description: String
}

/// Runs real processes (sacct, reckon, the sandbox scripts) with their output in files, so a
/// chatty process can never block on a full pipe, and a hard timeout.
enum Shell {
    static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in (path + ":/usr/local/sbin:/usr/sbin:/sbin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable args…` with `env` added to this process's environment.
    static func run(_ executable: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> CommandResult {
        guard let exe = which(executable) else { throw ShellError(description: "\(executable): not found on PATH") }
        let shown = (env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [executable] + args.map(quote)).joined(separator: " ")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reckon-slurmit-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let t0 = Date()
        try p.run()
        let deadline = t0.addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()                       // SIGTERM to this child's PID only
            let grace = Date().addingTimeInterval(5)
            while p.isRunning && Date() < grace { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        try? outHandle.close(); try? errHandle.close()
        let seconds = Date().timeIntervalSince(t0)
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        if seconds >= timeout { throw ShellError(description: "`\(shown)` timed out after \(Int(timeout)) s\n\(stderr.suffix(2000))") }
        return CommandResult(command: shown, status: p.terminationStatus, stdout: stdout, stderr: stderr, seconds: seconds)
    }

    /// Like `run`, but a non-zero exit status is an error carrying the whole output.
    static func check(_ executable: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> CommandResult {
        let r = try run(executable, args, env: env, timeout: timeout)
        guard r.ok else { throw ShellError(description: r.summary) }
        return r
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
