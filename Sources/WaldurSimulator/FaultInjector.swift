/// Decides, request by request, which fault of the current `SimulatorFaults` to inject.
struct FaultInjector: Sendable {
    /// What to do with one request.
    enum Decision: Sendable, Equatable {
        case none
        case status(Int)
        case rateLimit(retryAfterSeconds: Int)
        case dropAfterWrite
    }

    private(set) var faults: SimulatorFaults
    private var random: SplitMix64

    init(faults: SimulatorFaults) {
        self.faults = faults
        self.random = SplitMix64(seed: faults.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    mutating func replace(with faults: SimulatorFaults) {
        self = FaultInjector(faults: faults)
    }

    /// The latency to add and the fault for a request to `template`.
    mutating func decide(template: String) -> (latencyMilliseconds: Int, decision: Decision) {
        guard faults.paths.isEmpty || faults.paths.contains(template) else { return (0, .none) }
        let latency = faults.latencyMilliseconds
        if !faults.script.isEmpty {
            let step = faults.script.removeFirst()
            switch step.kind {
            case "status": return (latency, .status(step.status ?? 503))
            case "rate_limit": return (latency, .rateLimit(retryAfterSeconds: step.retryAfterSeconds ?? faults.retryAfterSeconds))
            case "drop_after_write": return (latency, .dropAfterWrite)
            default: return (latency, .none)
            }
        }
        let draw = random.nextUnitDouble()
        if draw < faults.errorRate, !faults.errorStatuses.isEmpty {
            let index = Int(random.next() % UInt64(faults.errorStatuses.count))
            return (latency, .status(faults.errorStatuses[index]))
        }
        if draw < faults.errorRate + faults.rateLimitRate {
            return (latency, .rateLimit(retryAfterSeconds: faults.retryAfterSeconds))
        }
        if draw < faults.errorRate + faults.rateLimitRate + faults.dropAfterWriteRate {
            return (latency, .dropAfterWrite)
        }
        return (latency, .none)
    }
}
