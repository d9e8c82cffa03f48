import Foundation

/// Named places where the crash harness (`tools/crash-test`) can kill reckon with SIGKILL, the
/// way SQLite's crash tests stop a writer mid-flight. Inert unless `RECKON_FAULT_POINT` names the
/// point; `RECKON_FAULT_SKIP=N` lets the first N hits pass, so a seed can pick any occurrence.
/// Nothing but a test harness sets these variables.
public enum FaultPoint: String, CaseIterable, Sendable {
    /// A submission intent is committed; the HTTP call has not been made.
    case afterIntentCommit = "after-intent-commit"
    /// The HTTP call returned (the write may be applied); its outcome is not recorded yet.
    case afterRequestSent = "after-request-sent"
    /// An ingest batch is written inside its transaction, not yet committed.
    case midIngestBatch = "mid-ingest-batch"
    /// An ingest's batches but its last are committed, their usage not in the usage table yet
    /// (see `UsageTable`); the last batch and the completion are to be one transaction.
    case beforeUsageCompletion = "before-usage-completion"
    /// Outcomes are recorded; the read-back confirmation is not.
    case beforeConfirmation = "before-confirmation"

    private static let armed: (point: String, skip: Int)? = {
        let env = ProcessInfo.processInfo.environment
        guard let p = env["RECKON_FAULT_POINT"], !p.isEmpty else { return nil }
        return (p, Int(env["RECKON_FAULT_SKIP"] ?? "0") ?? 0)
    }()
    nonisolated(unsafe) private static var hits = 0
    private static let lock = NSLock()

    /// Kills the process here if this point is armed and its turn has come.
    public func hit() {
        guard let armed = Self.armed, armed.point == rawValue else { return }
        Self.lock.lock()
        Self.hits += 1
        let n = Self.hits
        Self.lock.unlock()
        if n > armed.skip {
            try? FileHandle.standardError.write(contentsOf: Data("reckon: fault point \(rawValue) (hit \(n)): SIGKILL\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}
