import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Persists the stored usages to `--state FILE` so a restarted simulator still holds them.
///
/// Writes go to a temporary file in the same directory, are fsynced, then renamed over the old
/// file, so a crash leaves either the old or the new state, never half of one.
enum SimStateFile {
    static func load(_ path: String) throws -> SimUsageStore? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(SimUsageStore.self, from: data)
        } catch let error as DecodingError {
            throw SimulatorError.stateFile("\(path): \(SimulatorError.describe(error))")
        } catch {
            throw SimulatorError.stateFile("cannot read \(path): \(error.localizedDescription)")
        }
    }

    static func save(_ store: SimUsageStore, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(store)
        } catch {
            throw SimulatorError.stateFile("cannot encode state: \(error)")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SimulatorError.stateFile("cannot create \(temporary): errno \(errno)") }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(temporary): errno \(errno)"
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = "cannot fsync \(temporary): errno \(errno)" }
        close(fd)
        if let failure {
            unlink(temporary)
            throw SimulatorError.stateFile(failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SimulatorError.stateFile("cannot rename \(temporary) to \(path): errno \(code)")
        }
    }
}
