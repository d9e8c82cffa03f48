import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonLMDB
import ReckonWaldur
import Testing
import WaldurSimulator

/// A first sync with more writes than one chunk (``OfferingReconciler/writeChunk``): the intents
/// of a chunk are committed together before its calls, the outcomes together after them, and
/// every write is sent once, confirmed once, and converges.
@Suite(.serialized) struct ReconcilerChunkTests {
    static let now = SimulatorHarness.now                  // 2026-11-27T12:00:00Z
    static let resourceCount = 150                         // > 2 chunks of set_usage
    static let users = ["alice", "bob"]

    static func resourceUUID(_ i: Int) -> String { String(format: "a0%030x", i) }

    @Test func writesGoInChunksAndConverge() async throws {
        let h = try await SimulatorHarness.start(resources: (0..<Self.resourceCount).map { ("acct\($0)", Self.resourceUUID($0)) },
                                                 users: Self.users)
        let (sim, ledger, dir) = (h.sim, h.ledger, h.directory)
        // One November job per (account, user): every resource gets cpu and mem totals and two users each.
        var psv = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES\n"
        var id = 1_000
        for i in 0..<Self.resourceCount {
            for u in Self.users {
                id += 1
                psv += "\(id)|\(id)|\(id)|c|acct\(i)|\(u)|COMPLETED|1795000000|1795000000|\(1_795_000_060 + 60 * i)|\(60 + 60 * i)|00:00:00|cpu=2,mem=1024M|cpu=2,mem=1024M\n"
            }
        }
        let file = dir + "-jobs.psv"
        try psv.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try IngestService(ledger: ledger).ingestFile(path: file, timeZone: TimeZone(identifier: "UTC")!, observedAt: Self.now - 3_600, defaultCluster: "c")

        let offering = OfferingConfiguration(name: "HPC", apiURL: sim.baseURL + "/api/", token: SecretToken(SimulatorHarness.providerToken),
                                             offeringUUID: SimulatorHarness.offering,
                                             components: [Component(name: "cpu", unitFactor: ExactDecimal(parsing: "1")!),
                                                          Component(name: "mem", unitFactor: ExactDecimal(parsing: "1024")!)])
        try await withShutdown(of: try WaldurConnection.client(for: offering, logger: Logger(label: "test"), requestTimeoutSeconds: 10)) { client in
            let eventsBefore = try h.events()
            let months = [BillingMonth(year: 2026, month: 10)!, BillingMonth(year: 2026, month: 11)!]
            let reconciler = try OfferingReconciler(ledger: ledger, offering: offering, client: client, clock: FixedClock(Self.now), logger: Logger(label: "test"))
            let r = try await reconciler.run(months: months, options: .init())
            #expect(r.errors.isEmpty, "\(r.errors)")
            // One set_usage per resource, one set_user_usages per (resource, component).
            let expectedWrites = Self.resourceCount * 3
            #expect(r.writes == expectedWrites && r.accepted == expectedWrites && r.confirmed == expectedWrites && r.diverged == 0)
            let posts = await h.posts()
            #expect(posts == expectedWrites)

            // The log: runs of at most writeChunk intents, each followed by the outcomes of exactly
            // those intents in the same order; one confirmation per intent.
            let events = try ledger.store.read { try $0.events(from: eventsBefore, limit: 1_000_000) }
            var intents: [Sequence64] = [], outcomes: [Sequence64] = [], confirmations: [Sequence64] = []
            var runs: [[Sequence64]] = [], outcomeRuns: [[Sequence64]] = []
            var last = ""
            for e in events {
                switch e.event {
                case .submissionIntended:
                    intents.append(e.sequence)
                    if last == "intent" { runs[runs.count - 1].append(e.sequence) } else { runs.append([e.sequence]) }
                    last = "intent"
                case .submissionOutcome(let o):
                    outcomes.append(o.intent)
                    if last == "outcome" { outcomeRuns[outcomeRuns.count - 1].append(o.intent) } else { outcomeRuns.append([o.intent]) }
                    last = "outcome"
                case .submissionConfirmed(let c):
                    confirmations.append(c.intent)
                    last = "confirmation"
                default:
                    last = "other"
                }
            }
            #expect(intents.count == expectedWrites)
            #expect(runs.count > 2)
            #expect(runs.allSatisfy { $0.count <= OfferingReconciler.writeChunk })
            #expect(runs.contains { $0.count == OfferingReconciler.writeChunk })
            #expect(outcomeRuns == runs)
            #expect(outcomes.sorted() == intents && confirmations.sorted() == intents)

            // Converged: the next run writes nothing.
            let again = try await reconciler.run(months: months, options: .init())
            #expect(again.writes == 0 && again.errors.isEmpty)
        }
        await h.stop()
    }
}
