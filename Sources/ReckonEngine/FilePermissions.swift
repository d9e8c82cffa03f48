import Foundation

/// Permission checks on the files that hold reckon's secrets and its billing record: a config
/// file holding a Waldur token should be readable by its owner only (a warning otherwise, as
/// ssh does for keys), and a state directory that group or others may write is refused (anyone
/// who can write there could rewrite or replace the event log that bills are derived from).
public enum FilePermissions {
    /// The permission bits (`st_mode & 0o7777`) of `path`, following symbolic links; nil when it
    /// does not exist or cannot be examined.
    public static func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// Octal text of a mode, as `ls` users know it: `0644`.
    public static func octal(_ mode: mode_t) -> String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// A warning for a config file that holds a token and that group or others can read, else nil.
    public static func tokenFileWarning(path: String) -> String? {
        guard let m = mode(of: path), m & 0o044 != 0 else { return nil }
        return "\(path) holds a Waldur API token and is readable by group or others (mode \(octal(m))); restrict it: chmod 600 \(path)"
    }

    /// Throws when the existing directory `path` is writable by group or others. A directory that
    /// does not exist yet passes: reckon creates it with mode 0700.
    public static func checkStateDirectory(_ path: String) throws(StateDirectoryError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw .cannotExamine(path: path, message: String(cString: strerror(errno)))
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path: path) }
        let m = st.st_mode & 0o7777
        if m & 0o022 != 0 { throw .writableByOthers(path: path, mode: octal(m)) }
    }
}

/// Why a state directory is refused.
public enum StateDirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    case writableByOthers(path: String, mode: String)
    case notADirectory(path: String)
    case cannotExamine(path: String, message: String)

    public var description: String {
        switch self {
        case .writableByOthers(let p, let m):
            return "the state directory \(p) is writable by group or others (mode \(m)); anyone who can write there could rewrite the event log. Refusing to use it: chmod go-w \(p) (reckon creates it with mode 0700)"
        case .notADirectory(let p):
            return "the state directory \(p) exists and is not a directory"
        case .cannotExamine(let p, let m):
            return "cannot examine the state directory \(p): \(m)"
        }
    }
}
