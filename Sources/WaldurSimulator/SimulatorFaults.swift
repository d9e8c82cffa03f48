import Foundation

/// The fault mix the simulator injects into `/api/` requests, set at start or by `POST /_sim/faults`.
///
/// A reconciler must survive what real deployments do: proxies answering 502/503, rate limits with
/// `Retry-After`, slow answers, and a write that was applied although the connection dropped
/// before the answer. Rates are probabilities per request; `script` lists faults applied to the
/// next requests in order, before any random fault, for deterministic tests.
public struct SimulatorFaults: Sendable, Equatable, Codable {
    /// One scripted fault.
    public struct Step: Sendable, Equatable, Codable {
        /// `status`, `rate_limit`, `drop_after_write` or `none` (let one request through).
        public var kind: String
        /// For `status`: 500, 502 or 503 (any 5xx is accepted).
        public var status: Int?
        /// For `rate_limit`: the `Retry-After` seconds (default: the plan's `retry_after_seconds`).
        public var retryAfterSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case kind, status
            case retryAfterSeconds = "retry_after_seconds"
        }

        public init(kind: String, status: Int? = nil, retryAfterSeconds: Int? = nil) {
            self.kind = kind
            self.status = status
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// Probability of answering with one of `errorStatuses`.
    public var errorRate: Double
    /// Statuses used by `errorRate` (default 500, 502, 503).
    public var errorStatuses: [Int]
    /// Probability of answering 429.
    public var rateLimitRate: Double
    /// `Retry-After` sent with a 429.
    public var retryAfterSeconds: Int
    /// Delay added before every `/api/` answer.
    public var latencyMilliseconds: Int
    /// Probability of applying the request and then closing the connection without an answer.
    public var dropAfterWriteRate: Double
    /// Only requests to these path templates get faults; empty means every `/api/` endpoint.
    public var paths: [String]
    /// Faults for the next requests (consumed in order, only by requests the `paths` filter selects).
    public var script: [Step]
    /// Seed of the random generator, for reproducible random faults.
    public var seed: UInt64?

    enum CodingKeys: String, CodingKey {
        case paths, script, seed
        case errorRate = "error_rate"
        case errorStatuses = "error_statuses"
        case rateLimitRate = "rate_limit_rate"
        case retryAfterSeconds = "retry_after_seconds"
        case latencyMilliseconds = "latency_ms"
        case dropAfterWriteRate = "drop_after_write_rate"
    }

    public init(errorRate: Double = 0, errorStatuses: [Int] = [500, 502, 503], rateLimitRate: Double = 0,
                retryAfterSeconds: Int = 1, latencyMilliseconds: Int = 0, dropAfterWriteRate: Double = 0,
                paths: [String] = [], script: [Step] = [], seed: UInt64? = nil) {
        self.errorRate = errorRate
        self.errorStatuses = errorStatuses
        self.rateLimitRate = rateLimitRate
        self.retryAfterSeconds = retryAfterSeconds
        self.latencyMilliseconds = latencyMilliseconds
        self.dropAfterWriteRate = dropAfterWriteRate
        self.paths = paths
        self.script = script
        self.seed = seed
    }

    /// No faults.
    public static let none = SimulatorFaults()

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
        errorStatuses = try container.decodeIfPresent([Int].self, forKey: .errorStatuses) ?? [500, 502, 503]
        rateLimitRate = try container.decodeIfPresent(Double.self, forKey: .rateLimitRate) ?? 0
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 1
        latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0
        dropAfterWriteRate = try container.decodeIfPresent(Double.self, forKey: .dropAfterWriteRate) ?? 0
        paths = try container.decodeIfPresent([String].self, forKey: .paths) ?? []
        script = try container.decodeIfPresent([Step].self, forKey: .script) ?? []
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
    }

    /// Decodes and validates fault JSON; the error names the bad field and value.
    public init(json: [UInt8]) throws {
        let decoded: SimulatorFaults
        do {
            decoded = try JSONDecoder().decode(SimulatorFaults.self, from: Data(json))
        } catch let error as DecodingError {
            throw SimulatorError.invalidOption("faults: \(SimulatorError.describe(error))")
        }
        try decoded.validate()
        self = decoded
    }

    /// Checks ranges: rates in 0...1 summing to at most 1, 5xx statuses, known script kinds.
    public func validate() throws {
        for (name, rate) in [("error_rate", errorRate), ("rate_limit_rate", rateLimitRate),
                             ("drop_after_write_rate", dropAfterWriteRate)] where !(0...1).contains(rate) {
            throw SimulatorError.invalidOption("faults: \(name) \(rate) is not between 0 and 1")
        }
        guard errorRate + rateLimitRate + dropAfterWriteRate <= 1 else {
            throw SimulatorError.invalidOption("faults: the rates add up to more than 1")
        }
        for status in errorStatuses where !(500...599).contains(status) {
            throw SimulatorError.invalidOption("faults: error_statuses has \(status), not a 5xx status")
        }
        guard retryAfterSeconds >= 0, latencyMilliseconds >= 0, latencyMilliseconds <= 600_000 else {
            throw SimulatorError.invalidOption("faults: retry_after_seconds and latency_ms must be >= 0 (latency at most 600000)")
        }
        if errorRate > 0 && errorStatuses.isEmpty {
            throw SimulatorError.invalidOption("faults: error_rate needs at least one status in error_statuses")
        }
        for (index, step) in script.enumerated() {
            switch step.kind {
            case "status":
                guard let status = step.status, (500...599).contains(status) else {
                    throw SimulatorError.invalidOption("faults: script[\(index)] of kind status needs a 5xx status")
                }
            case "rate_limit", "drop_after_write", "none":
                break
            default:
                throw SimulatorError.invalidOption("faults: script[\(index)].kind \"\(step.kind)\" is not status, rate_limit, drop_after_write or none")
            }
        }
    }
}
