import Foundation

/// One daemon per state directory: an exclusive `flock` on `<state>/reckon.lock`, held for the
/// life of the process (the kernel drops it if the process dies), with the holder's PID written
/// in the file so a second daemon can say who holds it.
public final class StateLock {
    let fd: Int32
    public let path: String

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = directory + "/reckon.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateLockError.cannotOpen(path: path, message: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw StateLockError.held(path: path, holder: holder.isEmpty ? "unknown" : "pid \(holder)")
        }
        _ = ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

public enum StateLockError: Error, CustomStringConvertible {
    case cannotOpen(path: String, message: String)
    case held(path: String, holder: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let m): return "cannot open the lock file \(p): \(m)"
        case .held(let p, let h): return "another reckon daemon (\(h)) already runs on this state directory (lock \(p)); stop it first or use another --state-dir"
        }
    }
}
