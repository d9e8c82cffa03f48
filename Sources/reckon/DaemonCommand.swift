import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ReckonCore
import ReckonEngine
import ServiceLifecycle

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the continuous reconciliation daemon (a tick now, then one per interval).",
        discussion: """
        Each tick polls sacct once over [last poll − overlap, now) for all accounts (a full \
        re-scan of the open months every reckon.rescan_minutes), reconciles every offering and \
        touches the heartbeat file. The interval is reckon.interval_minutes, else \
        WALDUR_SITE_AGENT_REPORT_PERIOD_MINUTES, else 30 minutes. SIGTERM or SIGINT stop it \
        gracefully: the current write finishes and is recorded. One daemon per state directory.

        With reckon.metrics_address (e.g. 127.0.0.1:9464) it serves Prometheus /metrics and /healthz.

        Example:
          reckon daemon -c /etc/waldur/waldur-site-agent-config.yaml --log-format json
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Minutes between ticks (overrides the config and the environment).")
    var intervalMinutes: Int?

    @Option(name: .long, help: "Stop after this many ticks (for trials and benchmarks; default: run until stopped).")
    var ticks: Int?

    @Option(name: .long, help: .hidden)   // seconds between ticks, for tests and benchmarks
    var intervalSeconds: Int?

    func validate() throws {
        if let i = intervalMinutes, i < 1 { throw ValidationError("--interval-minutes must be at least 1, got \(i)") }
        if let i = intervalSeconds, i < 0 { throw ValidationError("--interval-seconds must be at least 0, got \(i)") }
        if let t = ticks, t < 1 { throw ValidationError("--ticks must be at least 1, got \(t)") }
    }

    func run() async throws {
        let flag = intervalMinutes, seconds = intervalSeconds, ticks = ticks
        try await ReconcileSetup.with(global: global, lock: true) { setup in
            try await Self.serve(setup, intervalFlag: flag, intervalSeconds: seconds, ticks: ticks)
        }
    }

    static func serve(_ setup: ReconcileSetup, intervalFlag: Int?, intervalSeconds: Int? = nil, ticks: Int? = nil) async throws {
        let interval = try intervalSeconds.map(Int64.init) ?? Self.interval(flag: intervalFlag, config: setup.config.reckon.intervalMinutes,
                                                                            environment: ProcessInfo.processInfo.environment)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let health = HealthState(intervalSeconds: interval)
        let heartbeat = setup.heartbeatPath
        // The loop returns only after --ticks or a graceful shutdown, and then the daemon ends.
        // Services are named, so an error names them and never prints their state.
        var services = [ServiceGroupConfiguration.ServiceConfiguration(
            service: ReconcileService(setup: setup, intervalSeconds: interval, heartbeatPath: heartbeat, health: health, ticks: ticks),
            successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "reconcile")]
        if let address = setup.config.reckon.metricsAddress {
            services.append(.init(service: try MetricsServer(address: address, registry: registry, health: health, clock: setup.clock, logger: setup.logger),
                                  serviceName: "metrics"))
        }
        setup.logger.info("reckon daemon starting", metadata: ["interval_minutes": "\(interval / 60)", "state_dir": "\(setup.stateDirectory)",
                                                                "offerings": "\(setup.config.offerings.count)"])
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                                          logger: setup.logger))
        try await group.run()
        setup.logger.info("reckon daemon stopped")
    }

    /// `--interval-minutes`, else `reckon.interval_minutes`, else the site-agent's variable, else 30 (in seconds).
    static func interval(flag: Int?, config: Int?, environment: [String: String]) throws -> Int64 {
        if let f = flag { return Int64(f) * 60 }
        if let c = config { return Int64(c) * 60 }
        if let e = environment["WALDUR_SITE_AGENT_REPORT_PERIOD_MINUTES"] {
            guard let m = Int(e.trimmingCharacters(in: .whitespaces)), m >= 1 else {
                throw CLIError("WALDUR_SITE_AGENT_REPORT_PERIOD_MINUTES: expected whole minutes ≥ 1, got \"\(e)\"")
            }
            return Int64(m) * 60
        }
        return 30 * 60
    }
}

/// The daemon's loop as a swift-service-lifecycle service: tick, record metrics and heartbeat,
/// sleep. A graceful shutdown ends the sleep, or cancels a tick in progress at its next Waldur
/// request (the one in flight finishes and is recorded; a sacct poll under way runs to its end
/// or its `sacct_timeout_seconds`).
struct ReconcileService: Service {
    let setup: ReconcileSetup
    let intervalSeconds: Int64
    let heartbeatPath: String
    let health: HealthState
    /// Stop after this many ticks (nil: run until stopped).
    var ticks: Int?

    func run() async throws {
        let metrics = ReckonMetrics()
        // The daemon is the ledger's one writer for its lifetime, so it may remember the sacct
        // lines it has recorded and skip them when a poll prints them again.
        await setup.tick.keepLineMemory()
        var done = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let before = (try? setup.ledger.store.read { try $0.eventCount() }) ?? 0
            let cpuBefore = ProcessResources.current()
            // SIGTERM cancels a tick in progress (a Waldur that is down would otherwise keep the
            // daemon in its retries for minutes): the client stops at its next await, and a
            // write whose answer never came is an open intent, settled by read-back next start.
            let tick = setup.tick
            let decision = ReconcileDecision.Options(holdDecreases: setup.config.reckon.holdDecreases)
            let result = await cancelWhenGracefulShutdown { await tick.run(decision: decision) }
            if result.cancelled { break }   // stopping: an unfinished tick is neither a tick nor a failure
            let cpuAfter = ProcessResources.current()
            let after = (try? setup.ledger.store.read { try $0.eventCount() }) ?? before
            let pending = await setup.tick.pendingIntents()
            let now = setup.clock.now()
            metrics.record(result, eventsAppended: after - before, pendingIntents: pending, now: now)
            await health.record(ok: result.ok, at: now)
            Heartbeat.touch(heartbeatPath, at: now)
            logSummary(result)
            done += 1
            let remembered = await setup.tick.rememberedLines
            setup.logger.info("tick resources", metadata: [
                "tick": "\(done)",
                "cpu_seconds": "\(ProcessResources.fixed(cpuAfter.cpuSeconds - cpuBefore.cpuSeconds))",
                "cpu_user_seconds": "\(ProcessResources.fixed(cpuAfter.userSeconds - cpuBefore.userSeconds))",
                "cpu_system_seconds": "\(ProcessResources.fixed(cpuAfter.systemSeconds - cpuBefore.systemSeconds))",
                "children_cpu_seconds": "\(ProcessResources.fixed(cpuAfter.childrenCPUSeconds - cpuBefore.childrenCPUSeconds))",
                "max_rss_kib": "\(cpuAfter.maxRSSKiB)", "events_appended": "\(after - before)",
                "remembered_lines": "\(remembered)",
            ])
            if let t = ticks, done >= t { break }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(intervalSeconds)) }
            } catch {
                break
            }
        }
    }

    func logSummary(_ r: ReconcileTick.Result) {
        for rep in r.reports {
            setup.logger.info("tick", metadata: [
                "offering": "\(rep.offering)", "agreed": "\(rep.plan.agreed)", "writes": "\(rep.writes)", "confirmed": "\(rep.confirmed)",
                "diverged": "\(rep.diverged)", "rejected": "\(rep.rejected)", "needs_staff": "\(rep.needsStaff)", "ambiguous": "\(rep.ambiguous)",
                "list_calls": "\(rep.listCalls)",
            ])
        }
        for e in r.errors { setup.logger.error("\(e)") }
    }
}

/// The heartbeat file: its content is the epoch of the last tick (the site-agent's convention).
enum Heartbeat {
    static func touch(_ path: String, at t: EpochSeconds) {
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data("\(t)\n".utf8)) else { return }
        _ = rename(tmp, path)
    }
}

/// What `/healthz` reports: healthy while the last successful tick is younger than three intervals.
actor HealthState {
    let intervalSeconds: Int64
    var lastOK: EpochSeconds?
    var lastTick: EpochSeconds?

    init(intervalSeconds: Int64) { self.intervalSeconds = intervalSeconds }

    func record(ok: Bool, at t: EpochSeconds) {
        lastTick = t
        if ok { lastOK = t }
    }

    func status(now: EpochSeconds) -> (healthy: Bool, text: String) {
        guard let ok = lastOK else { return (lastTick == nil, lastTick == nil ? "starting" : "no successful tick yet") }
        let age = now - ok
        return (age <= 3 * intervalSeconds, "last successful tick \(age) s ago")
    }
}
